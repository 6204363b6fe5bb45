/**
 * The demo's seven simulated homes. Each scenario's past is replayed at once (history ending now);
 * from `liveFromH` (scenario hours) on it plays at `speed`, so its notable moment comes within a
 * few minutes of starting the demo while the pump clock never runs ahead of the present.
 */
export interface DemoHome {
  gatewayId: string;
  serial: string;
  scenario: string;
  liveFromH: number;
  speed: number;
  /** what a newcomer should watch for */
  story: string;
}

export const DEMO_HOMES: readonly DemoHome[] = [
  { gatewayId: 'home-1', serial: 'CS7-DEMO01', scenario: 'normal-46h', liveFromH: 30, speed: 60, story: 'uneventful 46-h infusion, 16 h to go (1 min = 1 h)' },
  { gatewayId: 'home-2', serial: 'CS7-DEMO02', scenario: 'occlusion', liveFromH: 19.95, speed: 20, story: 'line occludes in ~25 s; pressure climbs ~2 min before the pump alarms' },
  { gatewayId: 'home-3', serial: 'CS7-DEMO03', scenario: 'long-pause', liveFromH: 15.95, speed: 20, story: 'paused in ~25 s and left paused for 45 min (~2 min here)' },
  { gatewayId: 'home-4', serial: 'CS7-DEMO04', scenario: 'early-end', liveFromH: 18.9, speed: 30, story: 'keyed at 12 mL/h against 5 ordered: program_mismatch at once; runs dry after 19 h (in ~40 s)' },
  { gatewayId: 'home-5', serial: 'CS7-DEMO05', scenario: 'ble-drops', liveFromH: 32.9, speed: 30, story: 'BLE link drops for 1 h (~2 min here) in ~10 s, then recovers through ?HIST' },
  { gatewayId: 'home-6', serial: 'CS7-DEMO06', scenario: 'wrong-rate-4d', liveFromH: 0.07, speed: 20, story: 'keyed at 28.8 mL/h against an order of 1.2 mL/h (the ISMP case): program_mismatch at START in ~3 s; empty in ~14 min' },
  { gatewayId: 'home-7', serial: 'CS7-DEMO07', scenario: 'normal-46h', liveFromH: 0.07, speed: 60, story: 'started before the pharmacy assigned it: program_unassigned in ~1 s (assign it as the pharmacist)' },
];

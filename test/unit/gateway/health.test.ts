import { describe, test, expect } from 'vitest';
import { assessHealth, problemKey, type HealthInputs, type HealthLimits, type LinkHealthView } from '../../../gateway/health.ts';

const LIMITS: HealthLimits = {
  linkOpenMs: 30_000, linkReopenMs: 3000, mqttReconnectMs: 1000, mqttConnectTimeoutMs: 10_000, queueFailingMs: 10_000, slackMs: 5000,
};
const T0 = 1_700_000_000_000;

function link(over: Partial<LinkHealthView> = {}): LinkHealthView {
  return { path: '/dev/ttyUSB0', state: 'up', stateSinceMs: T0, lastDataMs: T0, silenceS: 150, ...over };
}

function inputs(over: Partial<HealthInputs> = {}): HealthInputs {
  return {
    links: [link()],
    mqtt: { connected: true, lastAttemptMs: T0, downSinceMs: null, ended: false },
    queue: { failingSinceMs: null },
    ...over,
  };
}

const codesAt = (i: HealthInputs, nowMs: number): string[] => assessHealth(i, nowMs, LIMITS).problems.map((p) => p.code);

describe('assessHealth', () => {
  test('every part up: healthy', () => {
    expect(assessHealth(inputs(), T0 + 60_000, LIMITS)).toEqual({ healthy: true, problems: [] });
  });

  test('a port that cannot be opened and is retried on its backoff stays healthy for ever', () => {
    // every failed attempt enters `down` anew; each reopen is due within the 3 s backoff
    for (let k = 0; k < 1000; k++) {
      const failedAt = T0 + k * 3000;
      expect(codesAt(inputs({ links: [link({ state: 'down', stateSinceMs: failedAt })] }), failedAt + 2999)).toEqual([]);
    }
  });

  test('a link down past its longest backoff plus slack is not being reopened', () => {
    const i = inputs({ links: [link({ state: 'down', stateSinceMs: T0 })] });
    expect(codesAt(i, T0 + 8000)).toEqual([]);
    expect(assessHealth(i, T0 + 8001, LIMITS).problems).toEqual([{ code: 'LINK_NOT_REOPENED', part: '/dev/ttyUSB0', sinceMs: 8001 }]);
  });

  test('an open that never answers: hung after 30 s plus slack (Bluetooth connects take seconds)', () => {
    const i = inputs({ links: [link({ state: 'opening', stateSinceMs: T0 })] });
    expect(codesAt(i, T0 + 35_000)).toEqual([]);
    expect(codesAt(i, T0 + 35_001)).toEqual(['LINK_OPEN_HUNG']);
  });

  test('an open port silent past twice its silence limit should have been reopened', () => {
    const i = inputs({ links: [link({ state: 'up', lastDataMs: T0, silenceS: 10 })] });
    expect(codesAt(i, T0 + 20_000 + 1000 + 5000)).toEqual([]);
    expect(codesAt(i, T0 + 20_000 + 1000 + 5001)).toEqual(['LINK_SILENCE_UNHANDLED']);
  });

  test('each link is judged on its own', () => {
    const i = inputs({ links: [link(), link({ path: '/dev/rfcomm0', state: 'down', stateSinceMs: T0 })] });
    expect(assessHealth(i, T0 + 9000, LIMITS).problems.map((p) => p.part)).toEqual(['/dev/rfcomm0']);
  });

  test('a broker that stays unreachable is healthy while attempts keep starting', () => {
    for (let s = 0; s < 600; s++) {
      const attemptMs = T0 + s * 1000;
      const i = inputs({ links: [], mqtt: { connected: false, lastAttemptMs: attemptMs, downSinceMs: T0, ended: false } });
      expect(codesAt(i, attemptMs + 999)).toEqual([]);
    }
  });

  test('an attempt that hangs is given the connect timeout; no new attempt after that is stuck', () => {
    const i = inputs({ mqtt: { connected: false, lastAttemptMs: T0, downSinceMs: T0 - 60_000, ended: false } });
    expect(codesAt(i, T0 + 16_000)).toEqual([]);
    expect(codesAt(i, T0 + 16_001)).toEqual(['MQTT_STUCK']);
  });

  test('the clock for a fresh outage starts when the connection closed, not at the last attempt long before', () => {
    const i = inputs({ mqtt: { connected: false, lastAttemptMs: T0 - 3_600_000, downSinceMs: T0, ended: false } });
    expect(codesAt(i, T0 + 16_000)).toEqual([]);
    expect(codesAt(i, T0 + 16_001)).toEqual(['MQTT_STUCK']);
  });

  test('a client that ended by itself is stuck at once', () => {
    const i = inputs({ mqtt: { connected: false, lastAttemptMs: T0, downSinceMs: T0, ended: true } });
    expect(codesAt(i, T0)).toEqual(['MQTT_STUCK']);
  });

  test('a queue failing writes for 10 s plus slack is unhealthy; a shorter glitch is not', () => {
    const i = inputs({ queue: { failingSinceMs: T0 } });
    expect(codesAt(i, T0 + 15_000)).toEqual([]);
    expect(codesAt(i, T0 + 15_001)).toEqual(['QUEUE_WRITE_FAILING']);
  });

  test('problemKey names the problems, not how long they lasted, so a log line is written once per change', () => {
    const i = inputs({ queue: { failingSinceMs: T0 }, mqtt: { connected: false, lastAttemptMs: T0, downSinceMs: T0, ended: true } });
    const a = assessHealth(i, T0 + 20_000, LIMITS);
    const b = assessHealth(i, T0 + 25_000, LIMITS);
    expect(problemKey(a)).toBe('MQTT_STUCK:mqtt,QUEUE_WRITE_FAILING:queue');
    expect(problemKey(b)).toBe(problemKey(a));
    expect(problemKey(assessHealth(inputs(), T0, LIMITS))).toBe('');
  });
});

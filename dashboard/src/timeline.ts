/** Pure: the infusion's points and its timeline of state changes, alarms and alerts. */
import type { Alert, TelemetryPoint } from '../../protocol/api.ts';
import { alertTypeText, severityText } from './format.ts';
import { ackDetailText } from './pagingText.ts';

/** The points of the latest program: from the last time the infused volume went back down. */
export function currentInfusion(points: readonly TelemetryPoint[]): TelemetryPoint[] {
  let start = 0;
  for (let i = 1; i < points.length; i++) if (points[i]!.infusedMl < points[i - 1]!.infusedMl) start = i;
  return points.slice(start);
}

export interface TimelineEntry {
  /** epoch ms */
  timeMs: number;
  kind: 'state' | 'alarm' | 'alert' | 'cleared' | 'ack' | 'accepted';
  text: string;
  severity?: Alert['severity'];
}

/** Chronological entries: state changes and alarm changes seen in telemetry, plus alert lifecycle. */
export function buildTimeline(points: readonly TelemetryPoint[], alerts: readonly Alert[]): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  let prev: TelemetryPoint | undefined;
  for (const p of points) {
    const t = Date.parse(p.time);
    if (!prev || prev.state !== p.state) out.push({ timeMs: t, kind: 'state', text: prev ? `${prev.state} → ${p.state}` : `first seen ${p.state}` });
    const before = new Set(prev?.alarms ?? []);
    const now = new Set(p.alarms);
    for (const a of now) if (!before.has(a)) out.push({ timeMs: t, kind: 'alarm', text: `pump alarm ${a} on` });
    for (const a of before) if (!now.has(a)) out.push({ timeMs: t, kind: 'alarm', text: `pump alarm ${a} off` });
    prev = p;
  }
  for (const a of alerts) {
    out.push({ timeMs: Date.parse(a.raisedAt), kind: 'alert', severity: a.severity, text: `${severityText(a.severity)} alert: ${alertTypeText(a.type)} — ${a.message}` });
    if (a.clearedAt) out.push({ timeMs: Date.parse(a.clearedAt), kind: 'cleared', text: `${alertTypeText(a.type)} cleared` });
    if (a.acceptedBy && a.acceptedAt) out.push({ timeMs: Date.parse(a.acceptedAt), kind: 'accepted', text: `${alertTypeText(a.type)} page accepted by ${a.acceptedBy}` });
    if (a.acknowledged && a.ackedAt) {
      const detail = ackDetailText(a);
      out.push({ timeMs: Date.parse(a.ackedAt), kind: 'ack', text: `${alertTypeText(a.type)} acknowledged by ${a.ackedBy ?? 'unknown'}${detail ? ` — ${detail}` : ''}` });
    }
  }
  return out.filter((e) => Number.isFinite(e.timeMs)).sort((a, b) => a.timeMs - b.timeMs);
}

/** Column-wise series for the charts (x in epoch seconds), nulls kept as gaps. */
export interface ChartSeries {
  x: number[];
  rate: number[];
  infused: number[];
  pressure: (number | null)[];
  battery: number[];
}

export function toSeries(points: readonly TelemetryPoint[]): ChartSeries {
  const s: ChartSeries = { x: [], rate: [], infused: [], pressure: [], battery: [] };
  for (const p of points) {
    const t = Date.parse(p.time);
    if (!Number.isFinite(t)) continue;
    s.x.push(t / 1000);
    s.rate.push(p.state === 'RUN' ? p.rateMlH : 0);
    s.infused.push(p.infusedMl);
    s.pressure.push(p.pressureMmHg);
    s.battery.push(p.batteryPct);
  }
  return s;
}

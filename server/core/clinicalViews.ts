/**
 * Pump views leave the server with their patient and order (§6) laid over them: GET /api/pumps,
 * /api/pumps/:pump and the WebSocket's snapshot and pump messages. Read from the in-memory open
 * assignments (no query per message). Every role that may see pumps may read patients (nurse,
 * pharmacist, admin, API tokens), so the views are the same for every caller.
 */
import type { PumpView } from '../../protocol/api.ts';
import type { PumpOrder, PumpPatient } from '../../protocol/clinical.ts';
import type { ActiveAssignments } from '../clinical/activeAssignments.ts';
import type { LiveChange } from '../events/facts.ts';
import type { ApiBackend } from '../http/backend.ts';

export function withClinicalViews(base: ApiBackend, active: ActiveAssignments): ApiBackend {
  const enrich = (p: PumpView): PumpView => {
    const e = active.forPump(p.pump);
    if (!e) return { ...p, patient: null, order: null };
    const { patient: pt, order: o } = e;
    const patient: PumpPatient = { id: pt.id, mrn: pt.mrn, name: pt.name, phone: pt.phone, timezone: pt.timezone };
    const order: PumpOrder = { id: o.id, drug: o.drug, rateMlH: o.rateMlH, volumeMl: o.volumeMl, hours: o.hours, mode: o.mode };
    return { ...p, patient, order };
  };
  const enrichChanges = (changes: readonly LiveChange[]): LiveChange[] =>
    changes.map((c) => (c.type === 'pump' ? { type: 'pump', pump: enrich(c.pump) } : c));
  const setLabel = base.setPumpLabel?.bind(base);
  const setVisit = base.setPumpVisit?.bind(base);
  return {
    ...base,
    async pumps() {
      return (await base.pumps()).map(enrich);
    },
    async pump(serial) {
      const p = await base.pump(serial);
      return p && enrich(p);
    },
    async snapshot() {
      const s = await base.snapshot();
      return { ...s, pumps: s.pumps.map(enrich) };
    },
    subscribe: (listener) => base.subscribe((changes) => listener(enrichChanges(changes))),
    ...(setLabel ? {
      async setPumpLabel(serial: string, label: string | null) {
        const p = await setLabel(serial, label);
        return p && enrich(p);
      },
    } : {}),
    ...(setVisit ? {
      async setPumpVisit(serial: string, minutes: number | null, by: string) {
        const p = await setVisit(serial, minutes, by);
        return p && enrich(p);
      },
    } : {}),
  };
}

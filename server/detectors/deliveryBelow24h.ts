/**
 * delivery_below_24h (medium): the episode's delivery ended before deliveryMinHours, or is projected
 * to (volume or reservoir left ÷ rate) when a program starts or its rate changes. Programs planned
 * shorter than deliveryMinPlannedHours are short on purpose and never raise it.
 */
import { deliveredHours, volumeLeftMl } from '../pumps/pumpRecord.ts';
import { hoursText, mlText, round2 } from './messageText.ts';
import { sentenceEvidence, type SentenceInput } from './types.ts';

const plannedText = (h: number | null): string => (h === null ? '' : ` (planned ${hoursText(h)})`);

export function detectDeliveryBelow24h(d: SentenceInput): void {
  const { rec, msg, fx, store, at, cfg } = d;
  const current = store.current(rec.pump, 'delivery_below_24h');
  const active = current?.alert.status === 'active';
  if (active && (fx.started || fx.newProgram)) {
    store.clear(rec.pump, 'delivery_below_24h', at, { clearedBecause: 'a new program started', clearedSeq: msg.seq });
  }
  // the same program started again after a STOP: the course carries on, so "stopped after N h" no
  // longer stands; a projection still short stays until a projection reaches 24 h
  if (fx.restarted && store.isActive(rec.pump, 'delivery_below_24h') && current?.alert.detail.projected === false) {
    store.clear(rec.pump, 'delivery_below_24h', at, { clearedBecause: 'the same program was started again', clearedSeq: msg.seq });
  }
  const plannedOk = rec.programHours === null || rec.programHours >= cfg.deliveryMinPlannedHours;

  if (fx.ended !== null) {
    rec.projectionDue = false;
    const hours = deliveredHours(rec);
    const nowActive = store.isActive(rec.pump, 'delivery_below_24h');
    if (!plannedOk || hours >= cfg.deliveryMinHours) {
      if (nowActive) store.clear(rec.pump, 'delivery_below_24h', at, { deliveredHours: round2(hours), projected: false });
      return;
    }
    const message = fx.ended === 'end'
      ? `Pump ${rec.pump}: infusion finished after ${hoursText(hours)} of delivery, less than ${cfg.deliveryMinHours} h${plannedText(rec.programHours)}; it ran faster than planned. Check the prescription and how the patient is.`
      : `Pump ${rec.pump}: infusion was stopped after ${hoursText(hours)} of delivery, less than ${cfg.deliveryMinHours} h${plannedText(rec.programHours)}, with ${mlText(rec.stoppedLeftMl)} not given. Check with the patient and the prescriber.`;
    const detail = {
      projected: false, ...sentenceEvidence(d), how: fx.ended, deliveredHours: round2(hours), programId: rec.programId,
      programHours: rec.programHours, programVolumeMl: rec.programVolumeMl, infusedMl: rec.infusedMl, volumeLeftMl: rec.stoppedLeftMl,
      projection: nowActive ? current?.alert.detail : undefined,
    };
    if (nowActive) store.update(rec.pump, 'delivery_below_24h', message, detail, at.historic);
    else store.raise(rec.pump, rec.gateway, 'delivery_below_24h', at, message, detail);
    return;
  }

  if (!rec.projectionDue || !rec.programActive) return;
  // held (and kept due) while program_mismatch says the program contradicts its order: that alert
  // already tells the nurse the dose is wrong; a second page for its consequence is a storm
  if (store.isActive(rec.pump, 'program_mismatch')) return;
  if (msg.type === 'status') rec.projectionDue = false; // the status after START/RATE has the freshest volumes
  const rate = rec.rateMlH ?? 0;
  if (rate <= 0 || !plannedOk) return;
  let left = volumeLeftMl(rec);
  let basis = 'volume';
  if (rec.reservoirMl !== null && rec.reservoirMl < left) {
    left = rec.reservoirMl;
    basis = 'reservoir';
  }
  const soFar = deliveredHours(rec);
  const projectedH = soFar + left / rate;
  const nowActive = store.isActive(rec.pump, 'delivery_below_24h');
  if (projectedH >= cfg.deliveryMinHours) {
    if (nowActive) store.clear(rec.pump, 'delivery_below_24h', at, { clearedBecause: 'projection now reaches 24 h', projectedHours: round2(projectedH) });
    return;
  }
  if (nowActive) return;
  const leftWhat = basis === 'reservoir' ? 'the reservoir' : 'the program';
  store.raise(rec.pump, rec.gateway, 'delivery_below_24h', at,
    `Pump ${rec.pump}: at ${rate} mL/h ${leftWhat} will run out after about ${hoursText(projectedH)} of delivery, less than ${cfg.deliveryMinHours} h${plannedText(rec.programHours)}. Check the rate and volume against the prescription.`,
    {
      projected: true, ...sentenceEvidence(d), basis, rateMlH: rate, volumeLeftMl: round2(left), deliveredHours: round2(soFar),
      projectedHours: round2(projectedH), programId: rec.programId, programHours: rec.programHours, programVolumeMl: rec.programVolumeMl,
      programRateMlH: rec.programRateMlH, reservoirMl: rec.reservoirMl,
    });
}

/**
 * drug_limit (high): the program on a pump exceeds what its drug allows at all (the pharmacist's
 * table of maximum rates and volumes), assigned or not: no order is needed to know that 28.8 mL/h
 * of a drug whose limit is 10 mL/h is wrong. The pump's drug label (PRG) is matched trimmed and
 * case-insensitively; a pump with no label is matched by its order's drug. Cleared when the program
 * is within the limits again (a new PRG, a RATE) or the limits change so that it is.
 */
import type { DrugLimit } from '../../protocol/clinical.ts';
import type { PumpRecord } from '../pumps/pumpRecord.ts';
import { mlText } from './messageText.ts';
import { checkedRateMlH, sameFigures } from './programMismatch.ts';
import type { ClinicalContext, VerifyInput } from './types.ts';

const FIGURES = ['limit', 'rateMlH', 'volumeMl'] as const;

export const drugKey = (drug: string): string => drug.trim().toLowerCase();

export function limitFor(rec: PumpRecord, clinical: ClinicalContext): DrugLimit | undefined {
  if (clinical.drugLimits.size === 0) return undefined;
  const label = rec.drug !== null && rec.drug.trim() !== '' ? rec.drug : rec.course?.terms.drug;
  return label === undefined ? undefined : clinical.drugLimits.get(drugKey(label));
}

export function detectDrugLimit(v: VerifyInput): void {
  const { rec, store, at } = v;
  const active = store.isActive(rec.pump, 'drug_limit');
  const limit = limitFor(rec, v.clinical);
  const rate = checkedRateMlH(rec, v.trigger);
  const volume = rec.programVolumeMl;
  const rateOver = limit !== undefined && rate !== null && rate > limit.maxRateMlH;
  const volumeOver = limit?.maxVolumeMl != null && volume !== null && volume > limit.maxVolumeMl;
  if (limit === undefined || (!rateOver && !volumeOver)) {
    if (active) {
      store.clear(rec.pump, 'drug_limit', at, {
        clearedBecause: limit === undefined ? 'no limit applies to this program' : 'the program is within the drug limits',
        clearedCheck: v.trigger,
      });
    }
    return;
  }
  // a program that already ended keeps its alert but is not raised anew
  if (!active && !rec.programActive && !rec.programPending) return;
  const parts: string[] = [];
  if (rateOver) parts.push(`${rate} mL/h, above the ${limit.maxRateMlH} mL/h limit`);
  if (volumeOver) parts.push(`${mlText(volume)}, above the ${mlText(limit.maxVolumeMl ?? 0)} limit`);
  const label = rec.drug !== null && rec.drug.trim() !== '' ? rec.drug.trim() : limit.drug.trim();
  const message = `Pump ${rec.pump}: ${label} is programmed at ${parts.join(' and ')} for this drug. `
    + 'No prescription allows this: call the patient to stop the pump, and check the program with the pharmacy.';
  const detail: Record<string, unknown> = {
    ...v.evidence, check: v.trigger, programId: rec.programId, drug: rec.drug, limit: { ...limit },
    rateMlH: { programmed: rate, max: limit.maxRateMlH, over: rateOver },
    volumeMl: { programmed: volume, max: limit.maxVolumeMl, over: volumeOver },
  };
  if (!active) store.raise(rec.pump, rec.gateway, 'drug_limit', at, message, detail);
  else if (!sameFigures(store.current(rec.pump, 'drug_limit')!.alert.detail, detail, FIGURES)) store.update(rec.pump, 'drug_limit', message, detail, at.historic);
}

/**
 * Lease takeover: which of a pump's waiting messages the state rebuilt from storage already covers.
 * Every instance receives a pump's topic from the broker in the same order, so what the previous
 * owner judged before its checkpoint is a prefix of what this instance kept: everything up to the
 * first copy of the newest identity the checkpoint recorded. That prefix is dropped whole; the
 * de-duplication window (the checkpoint keeps only the last few hundred identities) would let the
 * older part of a long burst, e.g. a gateway's history replay, through to be judged a second time
 * on a state already past it (docs/scaling.md, "Takeover").
 */
import { parsePumpMessage } from '../../protocol/payloads.ts';
import { identityNumber } from '../ingest/dedupeWindow.ts';

export interface WaitingMessage {
  payload: Buffer;
}

/** how many leading messages the rebuilt state covers (0 when its last identity is not among them) */
export function judgedPrefix(lastJudgedId: number | null, waiting: readonly WaitingMessage[]): number {
  if (lastJudgedId === null) return 0;
  for (let i = 0; i < waiting.length; i++) {
    const v = parsePumpMessage((waiting[i] as WaitingMessage).payload);
    if (v.ok && identityNumber(v.message.seq, v.message.time) === lastJudgedId) return i + 1;
  }
  return 0;
}

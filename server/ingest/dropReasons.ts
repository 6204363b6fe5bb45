/**
 * Every reason the server drops an input for, declared once: the DropCounters take only these,
 * and /metrics shows each at 0 from the start so a dashboard's rate() has a series to work on.
 * The strings are part of the metrics contract (label values): never rename one.
 */
import { DECODE_ERRORS, PAYLOAD_ERRORS, type DecodeErrorCode, type PayloadErrorCode } from '../../protocol/errors.ts';

/** a pump message whose `raw` is not a valid sentence, by the decoder's code */
export type BadRawReason = `BAD_RAW:${DecodeErrorCode}`;

/** what the server itself refuses on top of the protocol validator's codes */
const SERVER_INGEST_DROPS = [
  'BAD_AVAILABILITY', // availability payload that is not {state, time}
  'DUPLICATE', // a sentence already seen (same pump, seq and time)
  'BAD_JOURNAL_ENTRY', // a journal entry that cannot be decoded at replay
  'HANDOVER_QUEUE_FULL', // scale-out: the oldest message queued for a pump still loading from storage
  'ALREADY_JUDGED', // lease takeover: a kept message the previous owner judged before the checkpoint rebuilt
] as const;

export type IngestDropReason = PayloadErrorCode | BadRawReason | (typeof SERVER_INGEST_DROPS)[number];

export const INGEST_DROP_REASONS: readonly IngestDropReason[] = [
  ...PAYLOAD_ERRORS,
  ...DECODE_ERRORS.map((c): BadRawReason => `BAD_RAW:${c}`),
  ...SERVER_INGEST_DROPS,
];

/** the reason a refused pump message is counted under: `BAD_RAW:<decode code>` when raw did not decode */
export function validationDropReason(code: PayloadErrorCode, decodeCode?: DecodeErrorCode): IngestDropReason {
  return code === 'BAD_RAW' && decodeCode !== undefined ? `BAD_RAW:${decodeCode}` : code;
}

/** instance-to-instance messages (pumpwatch/_server/...) the cluster relay drops */
export const CLUSTER_RELAY_DROP_REASONS = [
  'BAD_CLUSTER_MESSAGE', // wrong topic shape, not JSON, or not a v1 alert/pump/ack message
] as const;
export type ClusterRelayDropReason = (typeof CLUSTER_RELAY_DROP_REASONS)[number];

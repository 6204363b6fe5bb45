/**
 * Stable reasons for rejecting input. Each is counted and logged once by whoever drops it;
 * the strings are part of the diagnostics/metrics contract, so never rename one.
 */
export const DECODE_ERRORS = [
  'EMPTY', // blank line
  'TOO_LONG', // over 256 bytes
  'BAD_CHARACTER', // byte outside printable ASCII
  'NO_START', // does not begin with '$'
  'NO_CHECKSUM', // no '*HH' at the end
  'BAD_CHECKSUM', // checksum does not match
  'UNKNOWN_TYPE', // valid frame, sentence type we do not know: ignored and counted
  'BAD_FIELD_COUNT',
  'BAD_SERIAL',
  'BAD_SEQ',
  'BAD_TIME',
  'UNKNOWN_STATE',
  'BAD_NUMBER', // malformed or out of range
  'BAD_FIELD', // a text field that breaks its format (program id, drug, alarm or event code)
] as const;
export type DecodeErrorCode = (typeof DECODE_ERRORS)[number];

/** Reasons a pump message (MQTT payload) is refused, on top of the decode errors of its `raw`. */
export const PAYLOAD_ERRORS = [
  'NOT_JSON',
  'NOT_OBJECT',
  'BAD_VERSION',
  'BAD_TYPE',
  'BAD_RAW', // raw missing, or not a valid sentence (see decodeCode)
  'RAW_MISMATCH', // a field disagrees with what raw says
  'TOPIC_MISMATCH', // payload pump differs from the topic's serial
  'BAD_RECEIVED', // received is not an ISO time
  'BAD_REPLAY', // replay present but not a boolean
  'BAD_TOPIC',
] as const;
export type PayloadErrorCode = (typeof PAYLOAD_ERRORS)[number];

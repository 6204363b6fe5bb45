/**
 * Reading an HL7 ACK with node-hl7-client's parser: MSA-1 (AA/AE/AR, or CA/CE/CR in enhanced
 * mode), MSA-2 (the control id it answers) and the receiver's text (MSA-3, ERR-8 or ERR-3).
 */
import { Message } from 'node-hl7-client';

export type AckCode = 'AA' | 'AE' | 'AR';

export type AckVerdict =
  | { ok: true; code: AckCode; controlId: string; text: string }
  | { ok: false; reason: string };

const CODES: Readonly<Record<string, AckCode>> = { AA: 'AA', CA: 'AA', AE: 'AE', CE: 'AE', AR: 'AR', CR: 'AR' };

export function readAck(text: string): AckVerdict {
  if (!text.startsWith('MSH')) return { ok: false, reason: 'not an HL7 message' };
  try {
    const m = new Message({ text });
    const code = CODES[m.get('MSA.1').toString().trim().toUpperCase()];
    if (!code) return { ok: false, reason: `MSA-1 is "${m.get('MSA.1').toString().slice(0, 10)}"` };
    const controlId = m.get('MSA.2').toString();
    const why = [m.get('MSA.3').toString(), m.get('ERR.8').toString(), m.get('ERR.3.2').toString()].find((s) => s !== '') ?? '';
    return { ok: true, code, controlId, text: why.slice(0, 200) };
  } catch (err) {
    return { ok: false, reason: `unparsable: ${(err as Error).message.slice(0, 100)}` };
  }
}

/** an ACK for `received` (the listener's answer): MSH with sender/receiver swapped, MSA, ERR on error */
export function buildAck(received: Message | null, code: AckCode, controlId: string, nowText: string, reason?: string): string {
  const sender = received?.get('MSH.3.1').toString() ?? '';
  const version = received?.get('MSH.12.1').toString() || '2.6';
  const m = new Message({ text: `MSH|^~\\&|||||${nowText}||ACK|||${version}`, newLine: '\r' });
  m.set('MSH.3.1', 'PUMPWATCH_LISTEN');
  m.set('MSH.5.1', sender);
  m.set('MSH.9.1', 'ACK');
  m.set('MSH.9.2', received?.get('MSH.9.2').toString() ?? '');
  m.set('MSH.9.3', 'ACK');
  m.set('MSH.10', `ACK${controlId}`.slice(0, 199));
  m.set('MSH.11.1', 'P');
  const msa = m.addSegment('MSA');
  msa.set('1', code);
  msa.set('2', controlId);
  if (reason !== undefined) {
    msa.set('3', reason.slice(0, 80));
    const err = m.addSegment('ERR');
    err.set('3.1', '207');
    err.set('3.2', 'Application internal error');
    err.set('3.3', 'HL70357');
    err.set('4', 'E');
    err.set('8', reason.slice(0, 250));
  }
  return m.toString();
}

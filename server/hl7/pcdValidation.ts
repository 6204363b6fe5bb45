/**
 * Checks a received message against what an IHE PCD-01/-04/-10 receiver expects (used by
 * `npm run hl7-listen` and the tests): the MSH (type, version, control id, the profile named in
 * MSH-21 for that type), the segment order, and the MDC codes of OBX-3, OBX-6 and coded OBX-5.
 * Parsed with node-hl7-client's Message.
 */
import { Message, type HL7Node } from 'node-hl7-client';
import { MDC_BY_CODE, MDC_BY_REF } from './mdc.ts';
import { PROFILES, type Profile } from './pcdMessages.ts';

export interface Validation {
  message: Message | null;
  profile: Profile | null;
  controlId: string;
  errors: string[];
}

const ALLOWED = new Set(['MSH', 'PID', 'PV1', 'OBR', 'OBX']);

function segmentsOf(text: string): string[] {
  return text.split(/\r\n|\r|\n/).filter((s) => s !== '').map((s) => s.slice(0, 3));
}

/** a coded element with coding system MDC: a numeric code and an MDC_ reference id, consistent with ours */
function checkMdc(node: HL7Node, where: string, errors: string[]): void {
  if (node.get('3').toString() !== 'MDC') return;
  const code = node.get('1').toString();
  const ref = node.get('2').toString();
  if (!/^\d+$/.test(code)) errors.push(`${where}: MDC code "${code}" is not numeric`);
  if (!ref.startsWith('MDC_')) errors.push(`${where}: "${ref}" is not an MDC reference id`);
  const known = MDC_BY_CODE.get(code);
  if (known !== undefined && known !== ref) errors.push(`${where}: code ${code} is ${known}, not ${ref}`);
  const expected = MDC_BY_REF.get(ref);
  if (expected !== undefined && expected !== code) errors.push(`${where}: ${ref} is code ${expected}, not ${code}`);
}

/** the OBX whose OBX-3 reference id is `ref` */
export function obxByRef(m: Message, ref: string): HL7Node | null {
  let found: HL7Node | null = null;
  m.get('OBX').forEach((obx) => {
    if (found === null && obx.get('3.2').toString() === ref) found = obx;
  });
  return found;
}

export function validatePcd(text: string): Validation {
  const errors: string[] = [];
  let m: Message;
  try {
    m = new Message({ text });
  } catch (err) {
    return { message: null, profile: null, controlId: '', errors: [`not parsable: ${(err as Error).message}`] };
  }
  const controlId = m.get('MSH.10').toString();
  if (!text.startsWith('MSH|^~\\&|')) errors.push('does not start with MSH|^~\\&|');
  if (controlId === '') errors.push('MSH-10 (message control id) is empty');
  if (m.get('MSH.12.1').toString() !== '2.6') errors.push(`MSH-12 is "${m.get('MSH.12.1').toString()}", expected 2.6`);
  const type = [m.get('MSH.9.1').toString(), m.get('MSH.9.2').toString(), m.get('MSH.9.3').toString()].join('^');
  const profile = (Object.keys(PROFILES) as Profile[]).find((k) => PROFILES[k].type.join('^') === type) ?? null;
  if (!profile) {
    errors.push(`MSH-9 "${type}" is not ORU^R01^ORU_R01, ORU^R40^ORU_R40 or ORU^R42^ORU_R42`);
  } else {
    const p = PROFILES[profile];
    const got = [m.get('MSH.21.1').toString(), m.get('MSH.21.3').toString(), m.get('MSH.21.4').toString()];
    if (got[0] !== p.id || got[1] !== p.oid || got[2] !== 'ISO') errors.push(`MSH-21 "${got.join('^')}" is not the ${p.id} profile (${p.oid})`);
  }
  const segs = segmentsOf(text);
  for (const s of segs) if (!ALLOWED.has(s)) errors.push(`unexpected segment ${s}`);
  const order = segs.join(',');
  if (!/^MSH(,PID(,PV1)?)?,OBR(,OBX)+$/.test(order)) errors.push(`segment order ${order} is not MSH [PID [PV1]] OBR OBX...`);
  if (segs.includes('PID') && m.get('PID.3.1').toString() === '') errors.push('PID-3 (MRN) is empty');
  checkMdc(m.get('OBR.4'), 'OBR-4', errors);
  let i = 0;
  m.get('OBX').forEach((obx) => {
    i++;
    if (obx.get('1').toString() !== String(i)) errors.push(`OBX ${i}: set id is "${obx.get('1').toString()}"`);
    if (!/^\d+(\.\d+)*$/.test(obx.get('4').toString())) errors.push(`OBX ${i}: OBX-4 "${obx.get('4').toString()}" is not a containment path`);
    checkMdc(obx.get('3'), `OBX ${i} OBX-3`, errors);
    if (obx.get('2').toString() === 'CWE') checkMdc(obx.get('5'), `OBX ${i} OBX-5`, errors);
    if (obx.get('2').toString() === 'NM') {
      if (!Number.isFinite(Number(obx.get('5').toString()))) errors.push(`OBX ${i}: NM value "${obx.get('5').toString()}"`);
      checkMdc(obx.get('6'), `OBX ${i} OBX-6`, errors);
    }
  });
  if (profile === 'pcd04') {
    for (const ref of ['MDC_ATTR_EVENT_PHASE', 'MDC_ATTR_ALARM_STATE', 'MDC_ATTR_ALARM_PRIORITY']) {
      if (!obxByRef(m, ref)) errors.push(`PCD-04 without ${ref}`);
    }
    const prio = obxByRef(m, 'MDC_ATTR_ALARM_PRIORITY')?.get('5').toString();
    if (prio !== undefined && !['PH', 'PM', 'PL', 'PN'].includes(prio)) errors.push(`alarm priority "${prio}"`);
  }
  if (profile === 'pcd10' && !obxByRef(m, 'MDC_ATTR_EVT_COND')) errors.push('PCD-10 without MDC_ATTR_EVT_COND');
  if (profile === 'pcd01' && !obxByRef(m, 'MDC_DEV_PUMP_INFUS_MDS')) errors.push('PCD-01 without the pump MDS');
  return { message: m, profile, controlId, errors };
}

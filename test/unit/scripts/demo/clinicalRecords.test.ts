import { test } from 'vitest';
import assert from 'node:assert/strict';
import { decodeSentence, parsePumpTime, type Sentence } from '../../../../protocol/index.ts';
import { validateNewAssignment, validateNewOrder, validateNewPatient } from '../../../../protocol/clinicalValidation.ts';
import { runScenario } from '../../../../simulators/scenarioRun.ts';
import { demoClinicalRecords, MISPROGRAMMED_HOMES, programStartMs, UNASSIGNED_HOMES } from '../../../../scripts/demo/clinicalRecords.ts';
import { DEMO_HOMES, type DemoHome } from '../../../../scripts/demo/homes.ts';

const NOW = Date.parse('2026-12-04T10:11:12.345Z');
const H = 3_600_000;

/** the home's sentences as scripts/demo.ts lays them for a pump started at `nowMs` (simulators/simulatedPump.ts) */
function sentencesOf(home: DemoHome, nowMs: number): Sentence[] {
  const span = runScenario(home.scenario).spanMs;
  const liveMs = Math.max(0, span - home.liveFromH * H);
  const run = runScenario(home.scenario, { serial: home.serial, endingAtMs: nowMs + liveMs / home.speed });
  const out: Sentence[] = [];
  for (const item of run.items) {
    const d = decodeSentence(item.line);
    if (item.kind === 'sentence' && d.ok) out.push(d.sentence);
  }
  return out;
}

const records = demoClinicalRecords(DEMO_HOMES, NOW);

test('one fictional patient per home, with distinct MRNs and phone numbers reserved for fiction', () => {
  assert.deepEqual(records.map((r) => r.gatewayId), DEMO_HOMES.map((h) => h.gatewayId));
  assert.deepEqual(records.map((r) => r.pump), DEMO_HOMES.map((h) => h.serial));
  assert.equal(new Set(records.map((r) => r.patient.mrn)).size, DEMO_HOMES.length);
  for (const r of records) {
    assert.match(r.patient.name, /Fictional$/);
    assert.match(r.patient.phone ?? '', /^\+1 202 555 01\d\d$/);
  }
});

test('every order is the program its scenario keys, except on the homes keyed against their orders', () => {
  for (const home of DEMO_HOMES) {
    const r = records.find((x) => x.gatewayId === home.gatewayId);
    const prg = sentencesOf(home, NOW).find((s) => s.type === 'program');
    assert.ok(r && prg?.type === 'program', home.gatewayId);
    assert.equal(r.order.drug, prg.drug);
    assert.equal(r.order.mode, 'continuous');
    const rateRatio = prg.rateMlH / r.order.rateMlH;
    if (MISPROGRAMMED_HOMES.includes(home.gatewayId)) {
      assert.ok(rateRatio > 2, `${home.gatewayId}: keyed ${prg.rateMlH} against ${r.order.rateMlH} mL/h`);
    } else {
      assert.deepEqual([prg.rateMlH, prg.volumeMl, prg.hours], [r.order.rateMlH, r.order.volumeMl, r.order.hours], home.gatewayId);
    }
  }
  const ismp = records.find((r) => r.gatewayId === 'home-6');
  assert.deepEqual([ismp?.order.rateMlH, ismp?.order.hours], [1.2, 96]);
  assert.ok(MISPROGRAMMED_HOMES.includes('home-6'));
});

test('every pump but the unassigned one is assigned, half an hour before its START, and its order has begun by then', () => {
  assert.deepEqual(UNASSIGNED_HOMES, ['home-7']);
  for (const home of DEMO_HOMES) {
    const r = records.find((x) => x.gatewayId === home.gatewayId);
    assert.ok(r);
    // the pumps start a little after the records are made: START only moves later
    for (const startedAt of [NOW, NOW + 5_000]) {
      const start = sentencesOf(home, startedAt).find((s) => s.type === 'event' && s.code === 'START');
      assert.ok(start, home.gatewayId);
      const startMs = parsePumpTime(start.time);
      assert.ok(Date.parse(r.order.start) <= startMs, home.gatewayId);
      if (r.assignFrom !== null) assert.ok(Date.parse(r.assignFrom) <= startMs - 29 * 60_000, home.gatewayId);
    }
    assert.equal(programStartMs(home, NOW), parsePumpTime(sentencesOf(home, NOW).find((s) => s.type === 'event' && s.code === 'START')?.time ?? ''));
    assert.equal(r.assignFrom === null, UNASSIGNED_HOMES.includes(home.gatewayId));
  }
});

test('every body passes the API\'s own validators', () => {
  for (const r of records) {
    assert.deepEqual(validateNewPatient(r.patient), { ok: true, value: r.patient }, r.gatewayId);
    const order = validateNewOrder({ ...r.order, patientId: '1' });
    assert.ok(order.ok, `${r.gatewayId}: ${JSON.stringify(order)}`);
    if (r.assignFrom !== null) assert.ok(validateNewAssignment({ pump: r.pump, orderId: '2', from: r.assignFrom }).ok, r.gatewayId);
  }
});

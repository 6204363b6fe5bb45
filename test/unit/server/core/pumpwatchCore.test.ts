import type { EpisodeRecord } from '../../../../server/billing/types.ts';
import { describe, test } from 'vitest';
import assert from 'node:assert/strict';
import type { IPoint } from 'influx';
import pino from 'pino';
import { encodeSentence } from '../../../../protocol/encode.ts';
import { toPumpMessage } from '../../../../protocol/payloads.ts';
import type { Sentence } from '../../../../protocol/sentence.ts';
import { manualClock } from '../../../../server/clock.ts';
import { PumpwatchCore } from '../../../../server/core/pumpwatchCore.ts';
import type { LiveChange } from '../../../../server/http/backend.ts';
import { MemoryJournal } from '../storage/memoryJournal.ts';
import { FakeEngine, FakeTracker } from './fakes.ts';

const PUMP = 'CS7-004512';
const topic = (serial = PUMP, gw = 'gw-1'): string => `pumpwatch/${gw}/pumps/${serial}`;

function status(seq: number, time: string, alarms: string[] = [], pump = PUMP): Sentence {
  return {
    type: 'status', pump, seq, time, state: 'RUN', rateMlH: 5, infusedMl: 1, vtbiMl: 229, reservoirMl: 229,
    pressureMmHg: 36, batteryPct: 98, alarms,
  };
}

function body(s: Sentence, patch: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ ...toPumpMessage(s, encodeSentence(s), new Date('2026-11-24T09:00:05.100Z')), ...patch }));
}

function setup(opts: { shard?: { index: number; count: number } } = {}) {
  const engine = new FakeEngine();
  const billing = new FakeTracker();
  const journal = new MemoryJournal();
  const clock = manualClock(Date.parse('2026-11-24T09:00:06Z'));
  const stored: IPoint[] = [];
  let journalled = 0;
  const core = new PumpwatchCore({
    engine, billing, journal, journalEpoch: 'E1', clock, log: pino({ level: 'silent' }), shard: opts.shard ?? null, dedupeWindow: 64,
    store: (p) => stored.push(...p), journalled: () => { journalled++; },
  });
  const live: LiveChange[][] = [];
  core.subscribe((c) => live.push([...c]));
  return { engine, billing, journal, clock, core, stored, live, journalled: () => journalled };
}

describe('PumpwatchCore ingest', () => {
  test('a valid message is journalled, then fed to engine and billing, and its changes go live and to storage', () => {
    const { engine, billing, journal, core, stored, live, journalled } = setup();
    core.accept(topic(), body(status(43, '2026-11-24T09:00:05Z', ['OCCL_DN'])));
    assert.equal(journal.entries.length, 1);
    assert.equal(journalled(), 1);
    assert.equal(engine.ingested.length, 1);
    assert.equal(engine.ingested[0]?.ctx.gateway, 'gw-1');
    assert.equal(billing.ingested.length, 1);
    core.flushChanges();
    assert.deepEqual(live[0]?.map((c) => c.type), ['alert', 'pump']);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.measurement, 'alert');
    assert.equal(core.accepted, 1);
  });

  test('the same sentence twice is stored and judged once; a different sentence in the same second is not a duplicate', () => {
    const { engine, journal, core } = setup();
    core.accept(topic(), body(status(43, '2026-11-24T09:00:05Z')));
    core.accept(topic(), body(status(43, '2026-11-24T09:00:05Z')));
    core.accept(topic(PUMP, 'gw-2'), body(status(43, '2026-11-24T09:00:05Z')));
    core.accept(topic(), body(status(44, '2026-11-24T09:00:05Z')));
    assert.equal(journal.entries.length, 2);
    assert.equal(engine.ingested.length, 2);
    assert.equal(core.duplicates, 2);
    assert.equal(core.drops.count('DUPLICATE'), 2);
  });

  test('invalid messages are counted by reason and never reach journal, engine or billing', () => {
    const { engine, billing, journal, core } = setup();
    const s = status(50, '2026-11-24T09:00:05Z');
    core.accept(topic(), Buffer.from('not json'));
    core.accept(topic(), body(s, { infusedMl: 99 })); // raw says 1
    core.accept(topic('CS7-999999'), body(s)); // spoofed topic
    core.accept(topic(), body(s, { raw: encodeSentence(s).replace(/\*..$/, '*00') }));
    core.accept('pumpwatch/gw 1/pumps/x', body(s));
    core.accept(topic(), body(s, { v: 2 }));
    assert.equal(journal.entries.length, 0);
    assert.equal(engine.ingested.length, 0);
    assert.equal(billing.ingested.length, 0);
    assert.deepEqual(core.drops.snapshot(), {
      NOT_JSON: 1, RAW_MISMATCH: 1, TOPIC_MISMATCH: 1, 'BAD_RAW:BAD_CHECKSUM': 1, BAD_TOPIC: 1, BAD_VERSION: 1,
    });
    // an invalid copy does not poison the identity: the real sentence still goes through
    core.accept(topic(), body(s));
    assert.equal(engine.ingested.length, 1);
  });

  test('SHARD i/N keeps only its own pumps', () => {
    const mine = setup({ shard: { index: 0, count: 2 } });
    const other = setup({ shard: { index: 1, count: 2 } });
    for (let i = 0; i < 40; i++) {
      const serial = `CS7-${String(i).padStart(6, '0')}`;
      const b = body(status(1, '2026-11-24T09:00:05Z', [], serial));
      mine.core.accept(topic(serial), b);
      other.core.accept(topic(serial), b);
    }
    assert.equal(mine.engine.ingested.length + other.engine.ingested.length, 40);
    assert.ok(mine.engine.ingested.length > 5 && other.engine.ingested.length > 5);
    assert.equal(mine.core.notMine, other.engine.ingested.length);
  });

  test('gateway availability reaches the engine once per change, not once per retained redelivery', () => {
    const { engine, core } = setup();
    const offline = Buffer.from(JSON.stringify({ state: 'offline', time: '2026-11-24T09:00:00Z' }));
    core.accept('pumpwatch/gw-1/availability', offline);
    core.accept('pumpwatch/gw-1/availability', offline);
    core.accept('pumpwatch/gw-1/availability', Buffer.from('{"state":"sideways"}'));
    assert.deepEqual(engine.availability, [{ gateway: 'gw-1', state: 'offline' }]);
    assert.equal(core.drops.count('BAD_AVAILABILITY'), 1);
  });

  test('acknowledgements are journalled too, so a crash cannot forget who acknowledged', () => {
    const { core, journal } = setup();
    core.accept(topic(), body(status(43, '2026-11-24T09:00:05Z', ['OCCL_DN'])));
    const a = core.acknowledge(`${PUMP}-occlusion`, 'nurse.ann');
    assert.equal(a?.ackedBy, 'nurse.ann');
    assert.equal(journal.entries.length, 2);
    assert.equal(journal.uncommitted, 0, 'written before the reply');
    assert.equal(core.acknowledge('unknown', 'nurse.ann'), undefined);
  });

  test('messages are journalled by one commit for many; a failing commit holds ingest back until one succeeds', () => {
    const { core, journal } = setup();
    core.accept(topic(), body(status(43, '2026-11-24T09:00:05Z')));
    core.accept(topic(), body(status(44, '2026-11-24T09:00:06Z')));
    assert.equal(journal.uncommitted, 2);
    assert.equal(core.blocked(), false);
    journal.failCommit = Object.assign(new Error('i/o error'), { code: 'IO_ERROR' });
    assert.equal(core.commitJournal(), false);
    assert.equal(core.blocked(), true, 'nothing more is taken while the journal cannot write');
    assert.equal(core.commitJournal(), false);
    journal.failCommit = null;
    assert.equal(core.commitJournal(), true);
    assert.equal(journal.uncommitted, 0);
    assert.equal(core.blocked(), false);
  });
});

describe('PumpwatchCore checkpoints and replay', () => {
  test('a checkpoint holds the snapshot, open alerts, recent identities and the journal entry it covers', () => {
    const { core } = setup();
    core.accept(topic(), body(status(43, '2026-11-24T09:00:05Z', ['OCCL_DN'])));
    core.accept(topic(), body({ type: 'event', pump: PUMP, seq: 44, time: '2026-11-24T09:00:05Z', code: 'START', detail: 'P1' }));
    core.flushChanges();
    const points = core.checkpointPoints(2);
    const episode = points.find((p) => p.measurement === 'episode');
    const snap = points.find((p) => p.measurement === 'pump_state');
    assert.equal(episode?.fields?.journalId, 2);
    assert.equal(snap?.tags?.pump, PUMP);
    assert.equal(snap?.fields?.journalId, 2);
    assert.equal(snap?.fields?.journalEpoch, 'E1');
    assert.equal((JSON.parse(snap?.fields?.alerts as string) as unknown[]).length, 1);
    assert.deepEqual(JSON.parse(snap?.fields?.engine as string), { pump: PUMP, version: 1, sentences: 2 });
    assert.equal(core.checkpointPoints(2).length, 0, 'nothing changed since');
  });

  test('a sliced checkpoint lets ingest run between slices; each snapshot names the entry it covers', () => {
    const { core } = setup();
    for (let i = 0; i < 5; i++) core.accept(topic(`CS7-00000${i}`), body(status(1, '2026-11-24T09:00:01Z', [], `CS7-00000${i}`)));
    const slices = core.checkpointSlices(5, 2);
    assert.deepEqual(slices.next().value, [], 'no billing record changed');
    const first = slices.next().value as IPoint[];
    assert.deepEqual(first.map((p) => Number(p.fields?.journalId)), [5, 5]);
    core.accept(topic('CS7-000004'), body(status(2, '2026-11-24T09:00:02Z', [], 'CS7-000004'))); // arrives mid-checkpoint
    const rest = [...slices].flat();
    assert.equal(rest.length, 3);
    assert.deepEqual(rest.map((p) => Number(p.fields?.journalId)), [6, 6, 6], 'later slices cover what arrived meanwhile');
    assert.deepEqual(core.checkpointPoints(6).map((p) => p.tags?.pump), ['CS7-000004'], 'changed again: in the next checkpoint');
  });

  test('billing records are serialised a slice at a time too, each stored once in its latest form', () => {
    const { core, billing } = setup();
    const rec = (id: string, v: number): EpisodeRecord => ({ id, pump: 'CS7-000001', v } as unknown as EpisodeRecord);
    (billing as unknown as { changed: EpisodeRecord[] }).changed = [rec('e1', 1), rec('e2', 1), rec('e3', 1), rec('e1', 2), rec('e4', 1), rec('e5', 1)];
    const slices = [...core.checkpointSlices(7, 2)];
    const episodeSlices = slices.filter((sl) => sl.some((p) => p.measurement === 'episode'));
    assert.deepEqual(episodeSlices.map((sl) => sl.length), [2, 2, 1]);
    const stored = episodeSlices.flat().map((p) => JSON.parse(p.fields?.json as string) as { id: string; v: number });
    assert.deepEqual(stored.map((r) => `${r.id}:${r.v}`), ['e1:2', 'e2:1', 'e3:1', 'e4:1', 'e5:1']);
    assert.ok(episodeSlices.flat().every((p) => p.fields?.journalId === 7));
  });

  test('replay after a crash skips entries the restored state already covers and applies the rest', () => {
    const first = setup();
    for (let seq = 1; seq <= 4; seq++) first.core.accept(topic(), body(status(seq, `2026-11-24T09:00:0${seq}Z`)));
    const entries = first.journal.readAfter(0, 100);
    const second = setup();
    second.core.engineCovered.set(PUMP, { epoch: 'E1', id: 2 });
    second.core.billingCovered.set(PUMP, { epoch: 'E1', id: 3 });
    assert.equal(second.core.replay(entries), 4);
    assert.deepEqual(second.engine.ingested.map((i) => i.msg.seq), [3, 4]);
    assert.deepEqual(second.billing.ingested.map((m) => m.seq), [4]);
    // replayed identities are remembered: a broker redelivery after restart is a duplicate
    second.core.accept(topic(), body(status(4, '2026-11-24T09:00:04Z')));
    assert.equal(second.core.duplicates, 1);
  });

  test('markers from another journal (a wiped folder) do not skip anything', () => {
    const first = setup();
    first.core.accept(topic(), body(status(1, '2026-11-24T09:00:01Z')));
    const second = setup();
    second.core.engineCovered.set(PUMP, { epoch: 'OTHER', id: 99 });
    second.core.replay(first.journal.readAfter(0, 10));
    assert.equal(second.engine.ingested.length, 1);
  });
});

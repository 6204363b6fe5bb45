import type { EpisodeRecord } from '../../../../server/billing/types.ts';
import { describe, expect, test } from 'vitest';
import assert from 'node:assert/strict';
import type { IPoint } from 'influx';
import pino from 'pino';
import { encodeSentence } from '../../../../protocol/encode.ts';
import { toPumpMessage } from '../../../../protocol/payloads.ts';
import type { Sentence } from '../../../../protocol/sentence.ts';
import { manualClock } from '../../../../server/clock.ts';
import { Checkpointer } from '../../../../server/core/checkpointer.ts';
import { IngestPipeline } from '../../../../server/core/ingestPipeline.ts';
import { JournalCommitter } from '../../../../server/core/journalCommitter.ts';
import { PumpwatchCore } from '../../../../server/core/pumpwatchCore.ts';
import { EventBus } from '../../../../server/events/eventBus.ts';
import type { LiveChange } from '../../../../server/events/facts.ts';
import { storeAlertHistory } from '../../../../server/storage/alertHistory.ts';
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
  const log = pino({ level: 'silent' });
  const bus = new EventBus(log);
  const committer = new JournalCommitter(journal, bus, log);
  const core = new PumpwatchCore({ engine, billing, journalEpoch: 'E1', bus, journal: committer });
  const pipeline = new IngestPipeline({ core, journal, committer, clock, log, shard: opts.shard ?? null, dedupeWindow: 64 });
  const checkpointer = new Checkpointer({ core, pipeline, journal, clock });
  const stored: IPoint[] = [];
  storeAlertHistory(bus, { enqueue: (p) => stored.push(...p) }, clock);
  const journalled: number[] = [];
  bus.on('journalled', (f) => journalled.push(f.lastId));
  const live: LiveChange[][] = [];
  bus.on('changes', (c) => live.push([...c]));
  return { engine, billing, journal, clock, bus, core, pipeline, checkpointer, stored, live, journalled };
}

describe('PumpwatchCore ingest', () => {
  test('a valid message is journalled, then fed to engine and billing, and its changes go live and to storage', () => {
    const { engine, billing, journal, core, pipeline, stored, live, journalled } = setup();
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z', ['OCCL_DN'])));
    assert.equal(journal.entries.length, 1);
    assert.deepEqual(journalled, [], 'appended, not yet written');
    assert.equal(engine.ingested.length, 1);
    assert.equal(engine.ingested[0]?.ctx.gateway, 'gw-1');
    assert.equal(billing.ingested.length, 1);
    core.flushChanges();
    assert.deepEqual(journalled, [1], 'written before its changes are published');
    assert.deepEqual(live[0]?.map((c) => c.type), ['alert', 'pump']);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.measurement, 'alert');
    assert.equal(pipeline.accepted, 1);
  });

  test('the same sentence twice is stored and judged once; a different sentence in the same second is not a duplicate', () => {
    const { engine, journal, pipeline } = setup();
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z')));
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z')));
    pipeline.accept(topic(PUMP, 'gw-2'), body(status(43, '2026-11-24T09:00:05Z')));
    pipeline.accept(topic(), body(status(44, '2026-11-24T09:00:05Z')));
    assert.equal(journal.entries.length, 2);
    assert.equal(engine.ingested.length, 2);
    assert.equal(pipeline.duplicates, 2);
    assert.equal(pipeline.drops.count('DUPLICATE'), 2);
  });

  test('invalid messages are counted by reason and never reach journal, engine or billing', () => {
    const { engine, billing, journal, pipeline } = setup();
    const s = status(50, '2026-11-24T09:00:05Z');
    pipeline.accept(topic(), Buffer.from('not json'));
    pipeline.accept(topic(), body(s, { infusedMl: 99 })); // raw says 1
    pipeline.accept(topic('CS7-999999'), body(s)); // spoofed topic
    pipeline.accept(topic(), body(s, { raw: encodeSentence(s).replace(/\*..$/, '*00') }));
    pipeline.accept('pumpwatch/gw 1/pumps/x', body(s));
    pipeline.accept(topic(), body(s, { v: 2 }));
    assert.equal(journal.entries.length, 0);
    assert.equal(engine.ingested.length, 0);
    assert.equal(billing.ingested.length, 0);
    assert.deepEqual(pipeline.drops.snapshot(), {
      NOT_JSON: 1, RAW_MISMATCH: 1, TOPIC_MISMATCH: 1, 'BAD_RAW:BAD_CHECKSUM': 1, BAD_TOPIC: 1, BAD_VERSION: 1,
    });
    // an invalid copy does not poison the identity: the real sentence still goes through
    pipeline.accept(topic(), body(s));
    assert.equal(engine.ingested.length, 1);
  });

  test('SHARD i/N keeps only its own pumps', () => {
    const mine = setup({ shard: { index: 0, count: 2 } });
    const other = setup({ shard: { index: 1, count: 2 } });
    for (let i = 0; i < 40; i++) {
      const serial = `CS7-${String(i).padStart(6, '0')}`;
      const b = body(status(1, '2026-11-24T09:00:05Z', [], serial));
      mine.pipeline.accept(topic(serial), b);
      other.pipeline.accept(topic(serial), b);
    }
    assert.equal(mine.engine.ingested.length + other.engine.ingested.length, 40);
    assert.ok(mine.engine.ingested.length > 5 && other.engine.ingested.length > 5);
    assert.equal(mine.pipeline.notMine, other.engine.ingested.length);
  });

  test('gateway availability reaches the engine once per change, not once per retained redelivery', () => {
    const { engine, pipeline } = setup();
    const offline = Buffer.from(JSON.stringify({ state: 'offline', time: '2026-11-24T09:00:00Z' }));
    pipeline.accept('pumpwatch/gw-1/availability', offline);
    pipeline.accept('pumpwatch/gw-1/availability', offline);
    pipeline.accept('pumpwatch/gw-1/availability', Buffer.from('{"state":"sideways"}'));
    assert.deepEqual(engine.availability, [{ gateway: 'gw-1', state: 'offline' }]);
    assert.equal(pipeline.drops.count('BAD_AVAILABILITY'), 1);
  });

  test('acknowledgements are journalled too, so a crash cannot forget who acknowledged', () => {
    const { pipeline, journal } = setup();
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z', ['OCCL_DN'])));
    const a = pipeline.acknowledge(`${PUMP}-occlusion`, 'nurse.ann');
    assert.equal(a?.ackedBy, 'nurse.ann');
    assert.equal(journal.entries.length, 2);
    assert.equal(journal.uncommitted, 0, 'written before the reply');
    assert.equal(pipeline.acknowledge('unknown', 'nurse.ann'), undefined);
  });

  test('a nurse visit is journalled and written before the reply, and applied again when the journal is replayed', () => {
    const { pipeline, journal, engine, clock } = setup();
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z')));
    const until = clock.now() + 30 * 60_000;
    assert.equal(pipeline.setVisit(PUMP, until, 'nurse.ann'), true);
    assert.equal(pipeline.setVisit('CS7-999999', until, 'nurse.ann'), false, 'a pump never heard');
    assert.equal(journal.entries.length, 2);
    assert.equal(journal.uncommitted, 0, 'written before the reply');
    assert.deepEqual(engine.visits, [{ pump: PUMP, untilMs: until, by: 'nurse.ann', serverTimeMs: clock.now() }]);

    const again = setup();
    again.pipeline.replay(journal.entries);
    assert.deepEqual(again.engine.visits, engine.visits);
  });

  test('messages are journalled by one commit for many; a failing commit holds ingest back until one succeeds', () => {
    const { pipeline, journal } = setup();
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z')));
    pipeline.accept(topic(), body(status(44, '2026-11-24T09:00:06Z')));
    assert.equal(journal.uncommitted, 2);
    assert.equal(pipeline.blocked(), false);
    journal.failCommit = Object.assign(new Error('i/o error'), { code: 'IO_ERROR' });
    assert.equal(pipeline.commit(), false);
    assert.equal(pipeline.blocked(), true, 'nothing more is taken while the journal cannot write');
    assert.equal(pipeline.commit(), false);
    journal.failCommit = null;
    assert.equal(pipeline.commit(), true);
    assert.equal(journal.uncommitted, 0);
    assert.equal(pipeline.blocked(), false);
  });
});

describe('PumpwatchCore checkpoints and replay', () => {
  test('a checkpoint holds the snapshot, open alerts, recent identities and the journal entry it covers', () => {
    const { core, pipeline, checkpointer } = setup();
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z', ['OCCL_DN'])));
    pipeline.accept(topic(), body({ type: 'event', pump: PUMP, seq: 44, time: '2026-11-24T09:00:05Z', code: 'START', detail: 'P1' }));
    core.flushChanges();
    const points = checkpointer.points(2);
    const episode = points.find((p) => p.measurement === 'episode_week');
    const snap = points.find((p) => p.measurement === 'pump_state');
    assert.equal(episode?.fields?.journalId, 2);
    assert.equal(snap?.tags?.pump, PUMP);
    assert.equal(snap?.fields?.journalId, 2);
    assert.equal(snap?.fields?.journalEpoch, 'E1');
    assert.equal((JSON.parse(snap?.fields?.alerts as string) as unknown[]).length, 1);
    assert.deepEqual(JSON.parse(snap?.fields?.engine as string), { pump: PUMP, version: 1, sentences: 2 });
    assert.equal(checkpointer.points(2).length, 0, 'nothing changed since');
  });

  test('a sliced checkpoint lets ingest run between slices; each snapshot names the entry it covers', () => {
    const { pipeline, checkpointer } = setup();
    for (let i = 0; i < 5; i++) pipeline.accept(topic(`CS7-00000${i}`), body(status(1, '2026-11-24T09:00:01Z', [], `CS7-00000${i}`)));
    const slices = checkpointer.slices(5, 2);
    assert.deepEqual(slices.next().value, [], 'no billing record changed');
    const first = slices.next().value as IPoint[];
    assert.deepEqual(first.map((p) => Number(p.fields?.journalId)), [5, 5]);
    pipeline.accept(topic('CS7-000004'), body(status(2, '2026-11-24T09:00:02Z', [], 'CS7-000004'))); // arrives mid-checkpoint
    const rest = [...slices].flat();
    assert.equal(rest.length, 3);
    assert.deepEqual(rest.map((p) => Number(p.fields?.journalId)), [6, 6, 6], 'later slices cover what arrived meanwhile');
    assert.deepEqual(checkpointer.points(6).map((p) => p.tags?.pump), ['CS7-000004'], 'changed again: in the next checkpoint');
  });

  test('billing records are serialised a slice at a time too, each stored once in its latest form', () => {
    const { checkpointer, billing } = setup();
    const rec = (id: string, v: number): EpisodeRecord => ({ id, pump: 'CS7-000001', v } as unknown as EpisodeRecord);
    (billing as unknown as { changed: EpisodeRecord[] }).changed = [rec('e1', 1), rec('e2', 1), rec('e3', 1), rec('e1', 2), rec('e4', 1), rec('e5', 1)];
    const slices = [...checkpointer.slices(7, 2)];
    const episodeSlices = slices.filter((sl) => sl.some((p) => p.measurement === 'episode_week'));
    assert.deepEqual(episodeSlices.map((sl) => sl.length), [2, 2, 1]);
    const stored = episodeSlices.flat().map((p) => JSON.parse(p.fields?.json as string) as { id: string; v: number });
    assert.deepEqual(stored.map((r) => `${r.id}:${r.v}`), ['e1:2', 'e2:1', 'e3:1', 'e4:1', 'e5:1']);
    assert.ok(episodeSlices.flat().every((p) => p.fields?.journalId === 7));
  });

  test('replay after a crash skips entries the restored state already covers and applies the rest', () => {
    const first = setup();
    for (let seq = 1; seq <= 4; seq++) first.pipeline.accept(topic(), body(status(seq, `2026-11-24T09:00:0${seq}Z`)));
    const entries = first.journal.readAfter(0, 100);
    const second = setup();
    // what a restore found: the pump's checkpoint covers entry 2, its billing record entry 3
    second.core.restoreCheckpoint(PUMP, 'gw-1', { epoch: 'E1', id: 2 });
    second.core.restoreEpisodes([{ record: { id: 'e1', pump: PUMP } as unknown as EpisodeRecord, journalEpoch: 'E1', journalId: 3 }]);
    assert.equal(second.pipeline.replay(entries), 4);
    assert.deepEqual(second.engine.ingested.map((i) => i.msg.seq), [3, 4]);
    assert.deepEqual(second.billing.ingested.map((m) => m.seq), [4]);
    // replayed identities are remembered: a broker redelivery after restart is a duplicate
    second.pipeline.accept(topic(), body(status(4, '2026-11-24T09:00:04Z')));
    assert.equal(second.pipeline.duplicates, 1);
  });

  test('markers from another journal (a wiped folder) do not skip anything', () => {
    const first = setup();
    first.pipeline.accept(topic(), body(status(1, '2026-11-24T09:00:01Z')));
    const second = setup();
    second.core.restoreCheckpoint(PUMP, 'gw-1', { epoch: 'OTHER', id: 99 });
    second.pipeline.replay(first.journal.readAfter(0, 10));
    assert.equal(second.engine.ingested.length, 1);
  });
});

describe('PumpwatchCore facts', () => {
  test('pump changes become pumpChanged facts only while someone listens; acknowledgements become alertAcknowledged', () => {
    const { bus, core, pipeline } = setup();
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z', ['OCCL_DN'])));
    core.flushChanges(); // nobody listens to pumpChanged yet
    const pumps: string[] = [];
    const acked: string[] = [];
    const off = bus.on('pumpChanged', (p) => pumps.push(p.pump));
    bus.on('alertAcknowledged', (a) => acked.push(`${a.id}:${a.ackedBy ?? ''}`));
    pipeline.accept(topic(), body(status(44, '2026-11-24T09:00:06Z')));
    pipeline.acknowledge(`${PUMP}-occlusion`, 'nurse.ann');
    core.flushChanges();
    expect(pumps).toEqual([PUMP]);
    expect(acked).toEqual([`${PUMP}-occlusion:nurse.ann`]);
    off();
    pipeline.accept(topic(), body(status(45, '2026-11-24T09:00:07Z')));
    core.flushChanges();
    expect(pumps).toEqual([PUMP]);
  });

  test('infusion facts follow the pump state once what caused them is journalled', () => {
    const { bus, core, pipeline, journal } = setup();
    const seen: string[] = [];
    bus.on('infusionStarted', (f) => seen.push(`started ${f.pump} ${journal.entries.length}`));
    bus.on('infusionStopped', (f) => seen.push(`stopped ${f.view.state ?? ''}`));
    bus.on('infusionCompleted', (f) => seen.push(`completed ${f.view.state ?? ''}`));
    pipeline.accept(topic(), body(status(43, '2026-11-24T09:00:05Z')));
    core.flushChanges();
    pipeline.accept(topic(), body({ ...status(44, '2026-11-24T09:00:06Z'), state: 'PAUSE' } as Sentence));
    pipeline.accept(topic(), body(status(45, '2026-11-24T09:00:07Z')));
    core.flushChanges();
    pipeline.accept(topic(), body({ ...status(46, '2026-11-24T09:00:08Z'), state: 'END', vtbiMl: 0 } as Sentence));
    core.flushChanges();
    expect(seen).toEqual([`started ${PUMP} 1`, 'stopped PAUSE', `started ${PUMP} 3`, 'completed END']);
  });

  test('journalled is one fact per commit that wrote something, with the newest entry', () => {
    const { pipeline, journalled } = setup();
    for (let seq = 1; seq <= 3; seq++) pipeline.accept(topic(), body(status(seq, `2026-11-24T09:00:0${seq}Z`)));
    pipeline.commit();
    pipeline.commit(); // nothing new: no fact
    expect(journalled).toEqual([3]);
  });
});

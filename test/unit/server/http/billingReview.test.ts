/** POST /api/billing/episodes/:id/review and the evidence document: roles, validation, reviews laid over episodes. */
import { describe, test, beforeAll, afterAll } from 'vitest';
import assert from 'node:assert/strict';
import type { ClinicalApi } from '../../../../server/http/backend.ts';
import type { EpisodeReview } from '../../../../server/clinical/billingReviews.ts';
import { makeFixture, TOKEN, type Fixture } from './appFixture.ts';

describe('billing review routes', () => {
  let f: Fixture;
  const saved: { episodeId: string; note: string; actor: string }[] = [];
  const reviews = new Map<string, EpisodeReview>();
  beforeAll(async () => {
    f = await makeFixture();
  });
  afterAll(async () => {
    await f.close();
  });

  const post = async (who: 'alice' | 'bob', id: string, body: unknown): Promise<{ statusCode: number; body: string }> => {
    const s = await f.login(who);
    return f.app.inject({ method: 'POST', url: `/api/billing/episodes/${id}/review`, headers: { cookie: s.cookie, 'x-csrf-token': s.csrf, origin: f.origin }, payload: body as Record<string, unknown> });
  };

  test('without clinical records: 503 clinical_records_off', async () => {
    const res = await post('bob', 'e1', { note: 'checked' });
    assert.equal(res.statusCode, 503, res.body);
    assert.match(res.body, /clinical_records_off/);
  });

  test('a billing user reviews with a note; the review is on the episode in every listing; a nurse and a token may not', async () => {
    (f.backend as { clinical?: ClinicalApi }).clinical = {
      reviewEpisode: (input, actor) => {
        saved.push({ episodeId: input.episodeId, note: input.note, actor });
        const r = { episodeId: input.episodeId, reviewedBy: actor, reviewedAt: '2026-11-27T12:00:00.000Z', note: input.note, reasons: [...input.reasons] };
        reviews.set(input.episodeId, r);
        return Promise.resolve(r);
      },
      episodeReviews: (ids) => Promise.resolve(new Map(ids.flatMap((id) => (reviews.has(id) ? [[id, reviews.get(id)!] as const] : [])))),
    } as Partial<ClinicalApi> as ClinicalApi;
    const res = await post('bob', 'e1', { note: '  matches the nurse notes  ' });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(saved, [{ episodeId: 'e1', note: 'matches the nurse notes', actor: 'bob' }]);
    const e = JSON.parse(res.body) as { reviewedBy: string; reviewNote: string; reviewed: boolean };
    assert.deepEqual([e.reviewedBy, e.reviewNote, e.reviewed], ['bob', 'matches the nurse notes', true]);
    const list = await f.app.inject({ url: '/api/billing/episodes', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(list.json<{ id: string; reviewedBy: string | null }[]>().find((x) => x.id === 'e1')?.reviewedBy, 'bob');
    assert.equal((await post('alice', 'e1', { note: 'x' })).statusCode, 403);
    const token = await f.app.inject({ method: 'POST', url: '/api/billing/episodes/e1/review', headers: { authorization: `Bearer ${TOKEN}` }, payload: { note: 'x' } });
    assert.equal(token.statusCode, 403);
  });

  test('a blank or missing note: 400; an unknown episode: 404', async () => {
    assert.equal((await post('bob', 'e1', { note: '   ' })).statusCode, 400);
    assert.equal((await post('bob', 'e1', {})).statusCode, 400);
    assert.equal((await post('bob', 'nope', { note: 'x' })).statusCode, 404);
  });

  test('the evidence document: the result, the order and the sentences in one JSON', async () => {
    const res = await f.app.inject({ url: '/api/billing/episodes/e1/evidence?format=json', headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.statusCode, 200);
    const doc = res.json<{ episode: string; result: { code: string }; order: unknown; sentences: { seq: number }[]; method: string[] }>();
    assert.equal(doc.episode, 'e1');
    assert.deepEqual(doc.sentences.map((s) => s.seq), [1, 2, 3]);
    assert.ok(doc.method.length > 0);
    assert.equal((await f.app.inject({ url: '/api/billing/episodes/e1/evidence?format=xml', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 400);
  });
});

/** Billing episodes, their CSV and their raw evidence (billing, admin; tokens). */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { AuditTrail } from '../auditTrail.ts';
import type { ApiBackend, EpisodeQueryMs } from '../backend.ts';
import { episodesToCsv } from '../../billing/csv.ts';
import { ClinicalError } from '../../clinical/clinicalErrors.ts';
import { principalOf } from '../access.ts';
import { ApiError, badRequest, notFound } from '../errors.ts';
import { withReview, withReviews } from './billingReviewView.ts';
import { evidenceDocument } from './evidenceDocument.ts';
import { parseRange, rangeQueryProperties } from '../timeRange.ts';
import { BILLING, ID_PARAM, PUMP_PARAM } from './params.ts';

interface EpisodesQuery {
  pump?: string;
  from?: string;
  to?: string;
}

const episodesQuerySchema = { type: 'object', properties: { pump: PUMP_PARAM, ...rangeQueryProperties } } as const;
const idParams = { type: 'object', required: ['id'], properties: { id: ID_PARAM } } as const;

async function* ndjson(lines: AsyncIterable<string>): AsyncGenerator<string> {
  for await (const line of lines) yield `${line}\n`;
}

export function registerBillingRoutes(app: FastifyInstance, backend: ApiBackend, audit: AuditTrail, clock: () => number): void {
  const query = (q: EpisodesQuery): EpisodeQueryMs => {
    const { fromMs, toMs } = parseRange(q, clock());
    return q.pump !== undefined ? { fromMs, toMs, pump: q.pump } : { fromMs, toMs };
  };
  const exportDetail = (format: string, q: EpisodeQueryMs, rows: number): Record<string, string | number> => ({
    format, from: new Date(q.fromMs).toISOString(), to: new Date(q.toMs).toISOString(), pump: q.pump ?? '*', rows,
  });

  app.get<{ Querystring: EpisodesQuery }>('/api/billing/episodes', {
    schema: { querystring: episodesQuerySchema }, config: { access: BILLING },
  }, async (request) => {
    const q = query(request.query);
    const episodes = await withReviews(backend, await backend.episodes(q));
    audit.record(request, 'billing_export', 'ok', { detail: exportDetail('json', q, episodes.length) });
    return episodes;
  });

  app.get<{ Querystring: EpisodesQuery }>('/api/billing/episodes.csv', {
    schema: { querystring: episodesQuerySchema }, config: { access: BILLING },
  }, async (request, reply) => {
    const q = query(request.query);
    const episodes = await withReviews(backend, await backend.episodes(q));
    audit.record(request, 'billing_export', 'ok', { detail: exportDetail('csv', q, episodes.length) });
    const day = new Date(clock()).toISOString().slice(0, 10);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="pumpwatch-episodes-${day}.csv"`)
      .send(episodesToCsv(episodes));
  });

  app.get<{ Params: { id: string } }>('/api/billing/episodes/:id', {
    schema: { params: idParams }, config: { access: BILLING },
  }, async (request) => {
    const episode = await backend.episode(request.params.id);
    if (!episode) throw notFound('episode');
    return (await withReviews(backend, [episode]))[0];
  });

  app.post<{ Params: { id: string }; Body: { note: string } }>('/api/billing/episodes/:id/review', {
    schema: {
      params: idParams,
      body: { type: 'object', required: ['note'], additionalProperties: false, properties: { note: { type: 'string', minLength: 1, maxLength: 4000 } } },
    },
    config: { access: BILLING },
  }, async (request) => {
    const clinical = backend.clinical;
    if (!clinical?.reviewEpisode) throw new ApiError(503, 'clinical_records_off', 'reviews are kept with the clinical records: the server has no DATABASE_URL');
    const note = request.body.note.trim();
    if (note === '') throw badRequest('note must not be blank');
    const episode = await backend.episode(request.params.id);
    if (!episode?.id) throw notFound('episode');
    const course = episode as { reviewReasons?: string[]; patientId?: string | null };
    try {
      const review = await clinical.reviewEpisode({
        episodeId: episode.id, note, reasons: course.reviewReasons ?? [], patientId: course.patientId ?? null,
      }, principalOf(request).name);
      return withReview(episode, review);
    } catch (err) {
      if (err instanceof ClinicalError && err.code === 'DATABASE_UNAVAILABLE') {
        throw new ApiError(503, 'database_unavailable', 'reviews are unavailable: the database cannot be reached', { 'retry-after': '5' });
      }
      throw err;
    }
  });

  app.get<{ Params: { id: string }; Querystring: { format?: 'ndjson' | 'json' } }>('/api/billing/episodes/:id/evidence', {
    schema: { params: idParams, querystring: { type: 'object', properties: { format: { type: 'string', enum: ['ndjson', 'json'] } } } },
    config: { access: BILLING },
  }, async (request, reply) => {
    const lines = await backend.evidence(request.params.id);
    if (!lines) throw notFound('episode');
    audit.record(request, 'evidence_export', 'ok', { target: request.params.id, detail: { format: request.query.format ?? 'ndjson' } });
    const name = `evidence-${request.params.id.replace(/[^A-Za-z0-9._-]/g, '_')}`;
    if (request.query.format === 'json') {
      const episode = await backend.episode(request.params.id);
      if (!episode) throw notFound('episode');
      const sentences: unknown[] = [];
      for await (const line of lines) sentences.push(JSON.parse(line));
      return reply.header('content-disposition', `attachment; filename="${name}.json"`)
        .send(evidenceDocument((await withReviews(backend, [episode]))[0] ?? episode, sentences));
    }
    return reply
      .type('application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="${name}.ndjson"`)
      .send(Readable.from(ndjson(lines)));
  });
}

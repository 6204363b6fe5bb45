/**
 * Reviews of billing episodes in PostgreSQL (migration 006): a billing user marks an episode
 * reviewed with a note; the review and its audit entry commit together (transaction.ts).
 */
import type pg from 'pg';
import type { Clock } from '../clock.ts';
import { toClinicalError } from './clinicalErrors.ts';
import { audit, inTransaction } from './transaction.ts';

export interface EpisodeReview {
  episodeId: string;
  reviewedBy: string;
  /** ISO */
  reviewedAt: string;
  note: string;
  /** the episode's review reasons when it was reviewed */
  reasons: string[];
}

interface Row { episode_id: string; reviewed_by: string; reviewed_at: Date; note: string; reasons: string[] }

const fromRow = (r: Row): EpisodeReview => ({
  episodeId: r.episode_id, reviewedBy: r.reviewed_by, reviewedAt: r.reviewed_at.toISOString(), note: r.note, reasons: r.reasons,
});

export async function saveReview(
  pool: pg.Pool, clock: Clock, input: { episodeId: string; note: string; reasons: readonly string[]; patientId: string | null }, actor: string,
): Promise<EpisodeReview> {
  return inTransaction(pool, async (c) => {
    const { rows } = await c.query<Row>(
      `INSERT INTO billing_reviews (episode_id, reviewed_by, reviewed_at, note, reasons) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (episode_id) DO UPDATE SET reviewed_by = EXCLUDED.reviewed_by, reviewed_at = EXCLUDED.reviewed_at,
         note = EXCLUDED.note, reasons = EXCLUDED.reasons
       RETURNING episode_id, reviewed_by, reviewed_at, note, reasons`,
      [input.episodeId, actor, new Date(clock.now()), input.note, [...input.reasons]],
    );
    // ids and reasons only: the note may name the patient
    await audit(c, { actor, action: 'billing_episode.review', entityId: input.episodeId, patientId: input.patientId, detail: { reasons: [...input.reasons] } });
    return fromRow(rows[0] as Row);
  });
}

export async function reviewsOf(pool: pg.Pool, episodeIds: readonly string[]): Promise<Map<string, EpisodeReview>> {
  if (episodeIds.length === 0) return new Map();
  try {
    const { rows } = await pool.query<Row>(
      'SELECT episode_id, reviewed_by, reviewed_at, note, reasons FROM billing_reviews WHERE episode_id = ANY($1)', [[...episodeIds]],
    );
    return new Map(rows.map((r) => [r.episode_id, fromRow(r)]));
  } catch (err) {
    throw toClinicalError(err);
  }
}

/**
 * Billing reviews laid over episodes (docs/billing.md, "Review"): reviewedBy/reviewedAt/reviewNote
 * from PostgreSQL, and `reviewed`: a review settles the episode while its review reasons are those
 * it had when reviewed (a new reason brings it back to the top of the list).
 */
import type { Episode } from '../../../protocol/api.ts';
import type { EpisodeReview } from '../../clinical/billingReviews.ts';
import type { ApiBackend } from '../backend.ts';

export interface ReviewFields {
  reviewedBy: string | null;
  reviewedAt: string | null;
  reviewNote: string | null;
  reviewed: boolean;
}

const reasonsOf = (e: Episode): string[] => (e as { reviewReasons?: string[] }).reviewReasons ?? [];

export function withReview<E extends Episode>(e: E, r: EpisodeReview | undefined): E & ReviewFields {
  if (!r) return { ...e, reviewedBy: null, reviewedAt: null, reviewNote: null, reviewed: false };
  const settled = reasonsOf(e).every((x) => r.reasons.includes(x));
  return { ...e, reviewedBy: r.reviewedBy, reviewedAt: r.reviewedAt, reviewNote: r.note, reviewed: settled };
}

/** the reviews of these episodes; without the database (off, or down) none are shown */
export async function withReviews<E extends Episode>(backend: ApiBackend, episodes: readonly E[]): Promise<(E & ReviewFields)[]> {
  let reviews = new Map<string, EpisodeReview>();
  const clinical = backend.clinical;
  if (clinical?.episodeReviews && episodes.length > 0) {
    reviews = await clinical.episodeReviews(episodes.map((e) => e.id ?? '')).catch(() => new Map<string, EpisodeReview>());
  }
  return episodes.map((e) => withReview(e, reviews.get(e.id ?? '')));
}

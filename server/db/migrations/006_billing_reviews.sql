-- A billing user's review of an episode flagged needsReview (docs/billing.md, "Review"): who, when,
-- the note, and the reasons the episode had when it was reviewed. One row per episode: a new
-- review replaces the last (each one is in the audit log).
CREATE TABLE billing_reviews (
  episode_id   text PRIMARY KEY CHECK (length(episode_id) BETWEEN 1 AND 200),
  reviewed_by  text NOT NULL CHECK (length(reviewed_by) BETWEEN 1 AND 200),
  reviewed_at  timestamptz NOT NULL,
  note         text NOT NULL CHECK (length(note) BETWEEN 1 AND 4000),
  reasons      text[] NOT NULL DEFAULT '{}'
);

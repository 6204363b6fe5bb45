-- Paging (docs/paging.md): on-call shifts, one escalation chain per alert, the pages of each step,
-- their deliveries per channel, and the note and outcome of an acknowledgement.

CREATE TABLE oncall_shifts (
  id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  starts_at  timestamptz NOT NULL,
  ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
  -- usernames, first on call first
  chain      text[] NOT NULL CHECK (cardinality(chain) BETWEEN 1 AND 20)
);
CREATE INDEX oncall_shifts_time_idx ON oncall_shifts (starts_at, ends_at);

-- one chain per alert; every change is a conditional UPDATE (round, step, status as read), so two
-- instances, or one restarted, continue from the step reached and never take one step twice
CREATE TABLE paging_chains (
  alert_id     text PRIMARY KEY,
  pump         text NOT NULL,
  -- the alert as last seen (message, patient id), for the pages and the phone page
  alert        jsonb NOT NULL,
  chain        text[] NOT NULL,
  status       text NOT NULL CHECK (status IN ('paging', 'failed', 'accepted', 'idle', 'closed')),
  round        integer NOT NULL DEFAULT 0,
  step         integer NOT NULL DEFAULT 0,
  -- when the current step was paged (its accept deadline runs from here)
  step_at      timestamptz NOT NULL,
  accepted_by  text,
  accepted_at  timestamptz,
  -- how the chain ended: accepted, acknowledged, cleared
  closed_reason text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX paging_chains_open_idx ON paging_chains (status) WHERE status IN ('paging', 'failed');

-- one page per person per step per round; inserted (ON CONFLICT DO NOTHING) before anything is sent
CREATE TABLE pages (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  alert_id      text NOT NULL REFERENCES paging_chains (alert_id) ON DELETE CASCADE,
  round         integer NOT NULL,
  step          integer NOT NULL,
  username      text NOT NULL,
  -- SHA-256 of the single-use accept token (the token itself is only in the message)
  token_sha256  text NOT NULL UNIQUE CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  status        text NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'accepted', 'declined', 'expired')),
  created_at    timestamptz NOT NULL,
  sent_at       timestamptz,
  answered_at   timestamptz,
  UNIQUE (alert_id, round, step)
);

CREATE TABLE page_deliveries (
  page_id     bigint NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
  channel     text NOT NULL CHECK (channel IN ('email', 'push', 'webhook')),
  status      text NOT NULL CHECK (status IN ('sending', 'retrying', 'sent', 'failed')),
  attempts    integer NOT NULL DEFAULT 0,
  last_error  text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (page_id, channel)
);

-- what the nurse wrote when acknowledging (the acknowledgement itself is the core's)
CREATE TABLE alert_ack_notes (
  alert_id  text PRIMARY KEY,
  acked_by  text NOT NULL,
  note      text CHECK (length(note) <= 500),
  outcome   text CHECK (outcome IN ('patient_called', 'line_unkinked', 'visit_scheduled', 'pump_restarted', 'no_action_needed', 'other')),
  at        timestamptz NOT NULL
);

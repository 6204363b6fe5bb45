-- Accounts, login sessions and the audit log, moved from files into the database (docs/clinical.md).

CREATE TABLE users (
  username       text PRIMARY KEY CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$'),
  role           text NOT NULL CHECK (role IN ('nurse', 'billing', 'pharmacist', 'admin')),
  -- scrypt$N$r$p$salt$hash (server/auth/passwords.ts)
  password_hash  text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  email          text CHECK (length(email) <= 254),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

-- only the SHA-256 of the cookie value is kept, as in the sessions file; the role is read from
-- users at each use, so a changed role takes effect at once
CREATE TABLE sessions (
  id_sha256     text PRIMARY KEY CHECK (id_sha256 ~ '^[0-9a-f]{64}$'),
  username      text NOT NULL REFERENCES users (username) ON DELETE CASCADE ON UPDATE CASCADE,
  csrf_token    text NOT NULL,
  created_at    timestamptz NOT NULL,
  last_seen_at  timestamptz NOT NULL
);
CREATE INDEX sessions_username_idx ON sessions (username);

-- who read or changed what, when; never patient identifiers in `detail` (ids only)
CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  -- account name, or the label of the bearer token used
  actor       text NOT NULL CHECK (length(actor) BETWEEN 1 AND 100),
  -- e.g. patient.read, patient.create, order.discontinue, assignment.end
  action      text NOT NULL CHECK (action ~ '^[a-z_]+\.[a-z_]+$'),
  entity_id   text,
  patient_id  bigint,
  detail      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_patient_idx ON audit_log (patient_id, at) WHERE patient_id IS NOT NULL;

-- append-only: an entry is never changed or removed by the application
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

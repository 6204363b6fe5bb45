-- Patients, their orders, and which pump delivers which order when (docs/clinical.md).
-- Ids are bigint identities; the API renders them as decimal strings.

CREATE TABLE patients (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mrn         text NOT NULL CHECK (length(mrn) BETWEEN 1 AND 64),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  phone       text CHECK (length(phone) <= 64),
  -- IANA zone for service days; null: the server's zone
  timezone    text CHECK (length(timezone) <= 64),
  notes       text CHECK (length(notes) <= 4000),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT patients_mrn_unique UNIQUE (mrn)
);

CREATE TABLE orders (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  patient_id       bigint NOT NULL REFERENCES patients (id),
  drug             text NOT NULL CHECK (length(drug) BETWEEN 1 AND 200),
  rate_ml_h        double precision NOT NULL CHECK (rate_ml_h > 0),
  volume_ml        double precision NOT NULL CHECK (volume_ml > 0),
  hours            double precision NOT NULL CHECK (hours > 0),
  mode             text NOT NULL CHECK (mode IN ('continuous', 'intermittent')),
  start_at         timestamptz NOT NULL,
  stop_at          timestamptz CHECK (stop_at > start_at),
  payer            text CHECK (length(payer) <= 200),
  prescriber       text CHECK (length(prescriber) <= 200),
  discontinued_at  timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  -- lets an assignment name its order and patient together, so the two cannot disagree
  CONSTRAINT orders_id_patient_unique UNIQUE (id, patient_id)
);
CREATE INDEX orders_patient_idx ON orders (patient_id);

-- btree_gist is a trusted extension: the database's owner installs it without superuser
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE assignments (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pump        text NOT NULL CHECK (pump ~ '^[A-Z0-9-]{3,20}$'),
  order_id    bigint NOT NULL,
  patient_id  bigint NOT NULL,
  from_at     timestamptz NOT NULL,
  -- null while the pump is on the patient
  to_at       timestamptz CHECK (to_at >= from_at),
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT assignments_order_fk FOREIGN KEY (order_id, patient_id) REFERENCES orders (id, patient_id),
  -- a pump serves one order at a time: no two periods of one pump overlap, so at most one is open
  -- ([from, to) with no upper bound while open); two concurrent inserts: the second one fails
  CONSTRAINT assignments_pump_no_overlap EXCLUDE USING gist (pump WITH =, tstzrange(from_at, to_at, '[)') WITH &&)
);
CREATE INDEX assignments_open_idx ON assignments (pump) WHERE to_at IS NULL;
CREATE INDEX assignments_order_idx ON assignments (order_id);

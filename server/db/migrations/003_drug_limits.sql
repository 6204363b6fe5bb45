-- Drugs with known limits (docs/clinical.md, "Drug limits"): a program beyond them is impossible
-- whatever the order says. Edited by a pharmacist through PUT /api/drug-limits; the server holds
-- the table in memory for the detection engine.

CREATE TABLE drug_limits (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- matched case-insensitively against the pump's drug label and the order's drug
  drug           text NOT NULL CHECK (length(btrim(drug)) BETWEEN 1 AND 200),
  max_rate_ml_h  double precision NOT NULL CHECK (max_rate_ml_h > 0),
  -- mL of one program; null: no volume limit
  max_volume_ml  double precision CHECK (max_volume_ml > 0),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX drug_limits_drug_unique ON drug_limits (lower(btrim(drug)));

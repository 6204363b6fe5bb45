-- CLUSTER_MODE=lease (docs/scaling.md, "Ownership by lease"): the pumps are divided into a fixed
-- number of partitions; an instance judges the pumps of a partition only while it holds that
-- partition's lease. Expiry is PostgreSQL's clock; every acquisition increments the token, so a
-- write made under an old token can be refused (fencing).
CREATE TABLE cluster_leases (
  partition  integer PRIMARY KEY CHECK (partition >= 0),
  owner      text,
  token      bigint NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL DEFAULT 'epoch'
);

-- every running instance, renewed with its leases: who shares the partitions
CREATE TABLE cluster_instances (
  instance   text PRIMARY KEY,
  expires_at timestamptz NOT NULL,
  joined_at  timestamptz NOT NULL DEFAULT now()
);

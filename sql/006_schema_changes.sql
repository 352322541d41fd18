-- Data contracts (src/contracts). What a source's upstream looked like in its last batch that showed no change
-- of shape: the baseline against which new fields and fields become blank are judged.
CREATE TABLE source_profiles (
  source     text PRIMARY KEY,
  profile    jsonb       NOT NULL,
  run_id     text        NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per distinct change of an upstream's shape, kept up to date by every later batch that shows it.
CREATE TABLE schema_changes (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source           text        NOT NULL,
  kind             text        NOT NULL,
  field            text        NOT NULL,
  breaking         boolean     NOT NULL,
  observed_type    text,
  suggested_field  text,
  confidence       numeric(3, 2) CHECK (confidence BETWEEN 0 AND 1),
  evidence         jsonb,
  records_affected bigint      NOT NULL,
  first_run_id     text        NOT NULL,
  last_run_id      text        NOT NULL,
  first_seen_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at     timestamptz NOT NULL DEFAULT now(),
  status           text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'ignored')),
  UNIQUE (source, kind, field)
);
CREATE INDEX schema_changes_open ON schema_changes (source) WHERE status = 'open';

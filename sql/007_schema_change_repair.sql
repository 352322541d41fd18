-- Data contracts, continued: which runs met which change, how each change was settled, the field mappings an
-- operator's decisions produce, and runs that finished with records held back.

-- One row per (run, change): /runs/:run_id lists the changes a run met, how many of its records showed each, and
-- how many of those were held back (quarantined naming the change) rather than loaded under a mapping.
CREATE TABLE schema_change_runs (
  run_id    text   NOT NULL,
  change_id bigint NOT NULL REFERENCES schema_changes (id),
  records   bigint NOT NULL,
  held_back bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, change_id)
);

-- Which batches' records have been counted for which change: a batch recorded again (a retried frozen load, the
-- second look of a load that auto-accepted a rename) adds nothing.
CREATE TABLE schema_change_batches (
  batch_id  text   NOT NULL,
  change_id bigint NOT NULL REFERENCES schema_changes (id),
  PRIMARY KEY (batch_id, change_id)
);

-- How a change was settled: who or what decided, and the mapping version it produced (accepted renames).
ALTER TABLE schema_changes
  ADD COLUMN resolved_at     timestamptz,
  ADD COLUMN resolution      text,
  ADD COLUMN mapping_version integer;

-- A source's field mappings, versioned: each decision writes the whole mapping again as a new version, so what
-- normalized a record is never rewritten. `mapping` is { contract field: upstream field }, e.g.
-- { "current_price": "currentPrice" }. Loads and replays read the newest version.
CREATE TABLE field_mappings (
  source     text        NOT NULL,
  version    integer     NOT NULL CHECK (version > 0),
  mapping    jsonb       NOT NULL,
  change_id  bigint      REFERENCES schema_changes (id),
  note       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, version)
);

-- `degraded`: the run read its upstream to the end, but held records back because the upstream changed shape,
-- or far fewer of its records were valid than in the source's recent runs. `status_reason` says which and how many.
ALTER TABLE etl_runs DROP CONSTRAINT etl_runs_status_check;
ALTER TABLE etl_runs
  ADD CONSTRAINT etl_runs_status_check CHECK (status IN ('running', 'succeeded', 'degraded', 'failed', 'cancelled')),
  ADD COLUMN status_reason text;

-- Replays (etl replay): runs that re-normalize stored raw payloads instead of fetching. `selection` is what was
-- replayed: { "run": id } | { "since": time } | { "quarantined": true }.
ALTER TABLE etl_runs
  ADD COLUMN mode      text NOT NULL DEFAULT 'ingest' CHECK (mode IN ('ingest', 'replay')),
  ADD COLUMN selection jsonb;

-- A quarantined record that a replay loaded leaves quarantine but stays as the history of what happened.
ALTER TABLE quarantine
  ADD COLUMN released_at        timestamptz,
  ADD COLUMN released_by_run_id text;
CREATE INDEX quarantine_held ON quarantine (source, raw_id) WHERE released_at IS NULL;

-- What a replay of one run re-reads, the resume point of a replay, and /compare-runs: batches by run.
CREATE INDEX etl_batches_run_idx ON etl_batches (run_id);

-- Core pipeline schema: raw payloads, canonical assets, normalized quotes, runs, checkpoints, quarantine.

-- Every record exactly as the source sent it. The same payload stored twice keeps one row.
CREATE TABLE raw_payloads (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source           text        NOT NULL,
  source_record_id text        NOT NULL,
  content_hash     bytea       NOT NULL,
  payload          jsonb       NOT NULL,
  locator          text,
  fetched_at       timestamptz NOT NULL,
  run_id           text        NOT NULL,
  UNIQUE (source, source_record_id, content_hash)
);

-- A batch links what one fetch stored to the load that normalizes it: data moves between activities by
-- reference (this row), never through workflow history.
CREATE TABLE etl_batches (
  batch_id     text PRIMARY KEY,
  run_id       text        NOT NULL,
  source       text        NOT NULL,
  raw_ids      bigint[]    NOT NULL,
  cursor_after jsonb       NOT NULL,
  done         boolean     NOT NULL,
  fetched      integer     NOT NULL,
  -- set by the load, in its transaction: a retried load returns these instead of counting twice
  inserted     integer,
  unchanged    integer,
  invalid      integer,
  created_at   timestamptz NOT NULL DEFAULT now(),
  loaded_at    timestamptz
);

-- One row per real asset, whichever sources list it.
CREATE TABLE assets (
  asset_id   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  symbol     text        NOT NULL,
  name       text        NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- How each source's id maps to an asset, and why. needs_review lists matches kept apart for a person to check.
CREATE TABLE asset_mappings (
  source                text        NOT NULL,
  source_asset_id       text        NOT NULL,
  asset_id              bigint      NOT NULL REFERENCES assets,
  method                text        NOT NULL CHECK (method IN ('override', 'matched', 'new')),
  confidence            numeric(4, 3) NOT NULL,
  symbol                text        NOT NULL,
  symbol_key            text        NOT NULL,  -- normalized symbol: where candidates for a match are looked up
  name                  text        NOT NULL,
  rank                  integer,
  review_candidate_id   bigint REFERENCES assets,
  review_reason         text,
  created_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, source_asset_id)
);
CREATE INDEX asset_mappings_asset_idx ON asset_mappings (asset_id);
CREATE INDEX asset_mappings_symbol_key_idx ON asset_mappings (symbol_key);
CREATE INDEX asset_mappings_review_idx ON asset_mappings (source) WHERE review_candidate_id IS NOT NULL;

-- Mappings fixed by hand. They win over matching, on the next load that meets the id.
CREATE TABLE asset_overrides (
  source          text        NOT NULL,
  source_asset_id text        NOT NULL,
  asset_id        bigint      NOT NULL REFERENCES assets,
  note            text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, source_asset_id)
);

-- Normalized quotes, one schema for every source. History accumulates; re-runs are no-ops; one source never
-- overwrites another's price.
CREATE TABLE quotes (
  source             text        NOT NULL,
  source_asset_id    text        NOT NULL,
  source_updated_at  timestamptz NOT NULL,
  asset_id           bigint      NOT NULL REFERENCES assets,
  symbol             text        NOT NULL,
  name               text        NOT NULL,
  price_usd          numeric     NOT NULL,
  market_cap_usd     numeric,
  volume_24h_usd     numeric,
  percent_change_24h numeric,
  rank               integer,
  ingested_at        timestamptz NOT NULL DEFAULT now(),
  run_id             text        NOT NULL,
  PRIMARY KEY (source, source_asset_id, source_updated_at)
);
CREATE INDEX quotes_asset_idx ON quotes (asset_id, source, source_updated_at DESC);

CREATE TABLE etl_runs (
  run_id            text PRIMARY KEY,  -- Temporal's first run id of the chain: stable across retries, continue-as-new and resets
  workflow_id       text        NOT NULL,
  temporal_run_id   text        NOT NULL,  -- the latest run of the chain
  source            text        NOT NULL,
  trigger           text        NOT NULL CHECK (trigger IN ('schedule', 'api', 'cli')),
  status            text        NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled')),
  started_at        timestamptz NOT NULL DEFAULT now(),
  finished_at       timestamptz,
  fetched           integer     NOT NULL DEFAULT 0,
  inserted          integer     NOT NULL DEFAULT 0,
  unchanged         integer     NOT NULL DEFAULT 0,
  invalid           integer     NOT NULL DEFAULT 0,
  batches           integer     NOT NULL DEFAULT 0,
  error             text,
  fail_after        integer,
  fail_mode         text
);
CREATE INDEX etl_runs_source_idx ON etl_runs (source, started_at DESC);

-- Where each source resumes. Written in the same transaction as the batch of data it covers.
CREATE TABLE etl_checkpoints (
  source     text PRIMARY KEY,
  cursor     jsonb       NOT NULL,
  complete   boolean     NOT NULL,
  run_id     text        NOT NULL,
  batch_id   text        NOT NULL,
  watermark  timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Records that failed validation: kept with the reason, never silently dropped.
CREATE TABLE quarantine (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  source           text        NOT NULL,
  source_record_id text        NOT NULL,
  raw_id           bigint      NOT NULL REFERENCES raw_payloads,
  reason           text        NOT NULL,
  payload          jsonb       NOT NULL,
  run_id           text        NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (raw_id)
);

-- Failure injection fires once per workflow chain, so a retry or a reset of the failed run can succeed.
CREATE TABLE etl_fault_injections (
  run_id   text PRIMARY KEY,
  fired_at timestamptz NOT NULL DEFAULT now()
);

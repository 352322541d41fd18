-- /stats, /health and /metrics aggregated every row of etl_runs on each call, and a schedule adds a run per
-- source every 5 minutes: 100k rows a year. What they read is kept here instead: per source and status, the
-- runs and the records they processed, moved by a row trigger in the transaction that writes the run (its
-- start, every batch's counts, its end, a reset). The newest success and failure are read from an index.
CREATE TABLE run_totals (
  source    text   NOT NULL,
  status    text   NOT NULL,
  runs      bigint NOT NULL,
  fetched   bigint NOT NULL,
  inserted  bigint NOT NULL,
  unchanged bigint NOT NULL,
  invalid   bigint NOT NULL,
  PRIMARY KEY (source, status)
);

CREATE FUNCTION count_run() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM run_totals;
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO run_totals AS t VALUES (OLD.source, OLD.status, -1, -OLD.fetched, -OLD.inserted, -OLD.unchanged, -OLD.invalid)
    ON CONFLICT (source, status) DO UPDATE
      SET runs = t.runs - 1, fetched = t.fetched - OLD.fetched, inserted = t.inserted - OLD.inserted,
          unchanged = t.unchanged - OLD.unchanged, invalid = t.invalid - OLD.invalid;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    INSERT INTO run_totals AS t VALUES (NEW.source, NEW.status, 1, NEW.fetched, NEW.inserted, NEW.unchanged, NEW.invalid)
    ON CONFLICT (source, status) DO UPDATE
      SET runs = t.runs + 1, fetched = t.fetched + NEW.fetched, inserted = t.inserted + NEW.inserted,
          unchanged = t.unchanged + NEW.unchanged, invalid = t.invalid + NEW.invalid;
  END IF;
  RETURN NULL;
END
$$;

-- Only when what is counted changes: a batch's counts, a status; not the error text or the Temporal run id.
CREATE TRIGGER etl_runs_counted AFTER INSERT OR DELETE OR UPDATE OF source, status, fetched, inserted, unchanged, invalid
  ON etl_runs FOR EACH ROW EXECUTE FUNCTION count_run();
CREATE TRIGGER etl_runs_counted_truncate AFTER TRUNCATE ON etl_runs FOR EACH STATEMENT EXECUTE FUNCTION count_run();

-- What is there already: the trigger (created first) holds etl_runs against writers until this commits.
INSERT INTO run_totals
SELECT source, status, count(*), sum(fetched), sum(inserted), sum(unchanged), sum(invalid) FROM etl_runs GROUP BY source, status;

-- The newest success and failure of a source: one index probe each. A finished run always has finished_at, so
-- coalesce(finished_at, started_at) is finished_at for every run but a running one.
CREATE INDEX etl_runs_ended_idx ON etl_runs (source, status, (coalesce(finished_at, started_at)));

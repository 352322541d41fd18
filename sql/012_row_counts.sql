-- /stats counted every row of raw_payloads, quotes and quarantine on each call: 3.9 s at 10M quote rows, and
-- growing with history. The counts are kept here instead, per table and source, by statement triggers in the
-- writing transaction: they commit with the rows they count, or not at all, whoever writes (a load, a replay,
-- a retention delete, SQL by hand). One row per table and source: a source's loads, which run one at a time,
-- are the only writers of its rows, so the counter is no point of contention between sources.
CREATE TABLE row_counts (
  table_name text NOT NULL,
  source     text NOT NULL,
  n          bigint NOT NULL,
  PRIMARY KEY (table_name, source)
);

-- TG_ARGV[0]: which rows count (quarantine: only those not released). The same predicate on the rows a
-- statement wrote (new_rows) and on those it replaced or removed (old_rows) gives the change per source.
CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  counted text := TG_ARGV[0];
  delta text;
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    DELETE FROM row_counts WHERE table_name = TG_TABLE_NAME;
    RETURN NULL;
  END IF;
  delta := CASE TG_OP
    WHEN 'INSERT' THEN format('SELECT source, 1 AS d FROM new_rows WHERE %s', counted)
    WHEN 'DELETE' THEN format('SELECT source, -1 AS d FROM old_rows WHERE %s', counted)
    ELSE format('SELECT source, 1 AS d FROM new_rows WHERE %1$s UNION ALL SELECT source, -1 FROM old_rows WHERE %1$s', counted)
  END;
  EXECUTE format(
    'INSERT INTO row_counts (table_name, source, n)
     SELECT %L, source, sum(d) FROM (%s) changed GROUP BY source HAVING sum(d) <> 0
     ON CONFLICT (table_name, source) DO UPDATE SET n = row_counts.n + excluded.n',
    TG_TABLE_NAME, delta);
  RETURN NULL;
END
$$;

-- One trigger per event (transition tables allow no more), named <table>_counted_<event>. raw_payloads and
-- quotes rows never change source, so only quarantine, whose rows are released and quarantined again, needs
-- the UPDATE one.
DO $$
DECLARE
  t record;
BEGIN
  FOR t IN SELECT * FROM (VALUES ('raw_payloads', 'true', false), ('quotes', 'true', false),
                                 ('quarantine', 'released_at IS NULL', true)) AS v(name, counted, updates) LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION count_rows(%L)', t.name || '_counted_insert', t.name, t.counted);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
                      FOR EACH STATEMENT EXECUTE FUNCTION count_rows(%L)', t.name || '_counted_delete', t.name, t.counted);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                      FOR EACH STATEMENT EXECUTE FUNCTION count_rows(%L)', t.name || '_counted_truncate', t.name, t.counted);
    IF t.updates THEN
      EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION count_rows(%L)', t.name || '_counted_update', t.name, t.counted);
    END IF;
    -- What is there already: the triggers (created first) hold the table against writers until this commits.
    EXECUTE format('INSERT INTO row_counts (table_name, source, n)
                    SELECT %L, source, count(*) FROM %I WHERE %s GROUP BY source', t.name, t.name, t.counted);
  END LOOP;
END
$$;

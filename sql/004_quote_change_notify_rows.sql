-- 003 notified on every statement, even one that changed no row (a batch whose quotes were all known already:
-- ON CONFLICT DO NOTHING), and with the table's name as payload, so a load sent two notifications. Now a
-- statement notifies only when it changed rows, with one payload, which PostgreSQL folds to a single
-- notification per transaction. Transition tables need one trigger per event.
DROP TRIGGER quotes_changed ON quotes;
DROP TRIGGER latest_quotes_changed ON latest_quotes;

CREATE OR REPLACE FUNCTION notify_quotes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' OR EXISTS (SELECT 1 FROM changed) THEN
    PERFORM pg_notify('quotes_changed', '');
  END IF;
  RETURN NULL;
END
$$;

-- For each of the two tables: one trigger per event, named <table>_inserted / _updated / _deleted / _truncated.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['quotes', 'latest_quotes'] LOOP
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS changed
                      FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed()', t || '_inserted', t);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING NEW TABLE AS changed
                      FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed()', t || '_updated', t);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS changed
                      FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed()', t || '_deleted', t);
    EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I
                      FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed()', t || '_truncated', t);
  END LOOP;
END
$$;

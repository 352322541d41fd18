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

CREATE TRIGGER quotes_inserted AFTER INSERT ON quotes REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER quotes_updated AFTER UPDATE ON quotes REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER quotes_deleted AFTER DELETE ON quotes REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER quotes_truncated AFTER TRUNCATE ON quotes
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();

CREATE TRIGGER latest_quotes_inserted AFTER INSERT ON latest_quotes REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER latest_quotes_updated AFTER UPDATE ON latest_quotes REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER latest_quotes_deleted AFTER DELETE ON latest_quotes REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER latest_quotes_truncated AFTER TRUNCATE ON latest_quotes
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();

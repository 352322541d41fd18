-- Tell readers that quotes changed. NOTIFY is transactional: the message is delivered when the writing
-- transaction commits and never for one that rolls back, so a reader that drops its cached pages on it never
-- serves data older than the last commit. One message per statement, and PostgreSQL folds repeats within a
-- transaction, so a batch load costs a single notification.
CREATE FUNCTION notify_quotes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('quotes_changed', TG_TABLE_NAME);
  RETURN NULL;
END
$$;

CREATE TRIGGER quotes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON quotes
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER latest_quotes_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON latest_quotes
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();

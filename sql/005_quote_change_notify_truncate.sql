-- 004's `TG_OP = 'TRUNCATE' OR EXISTS (SELECT 1 FROM changed)` is one SQL expression, planned whole, and a
-- TRUNCATE trigger has no transition table: every TRUNCATE of quotes or latest_quotes failed with `relation
-- "changed" does not exist`. PL/pgSQL plans each IF branch only when it reaches it, so TRUNCATE gets its own.
CREATE OR REPLACE FUNCTION notify_quotes_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('quotes_changed', '');
  ELSIF EXISTS (SELECT 1 FROM changed) THEN
    PERFORM pg_notify('quotes_changed', '');
  END IF;
  RETURN NULL;
END
$$;

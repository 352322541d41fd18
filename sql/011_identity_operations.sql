-- A person's decisions about identity, and the record of each. A review is settled once (accepted: merged;
-- rejected: kept apart for good). identity_audit says who did what, when, and how many history rows moved.
ALTER TABLE asset_mappings
  ADD COLUMN review_outcome    text CHECK (review_outcome IN ('accepted', 'rejected')),
  ADD COLUMN review_settled_at timestamptz,
  ADD COLUMN review_settled_by text;
-- GET /identity/review: the open ones, best first.
CREATE INDEX asset_mappings_open_review_idx ON asset_mappings (review_confidence DESC)
  WHERE review_candidate_id IS NOT NULL AND review_outcome IS NULL;

CREATE TABLE identity_audit (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at              timestamptz NOT NULL DEFAULT now(),
  actor           text        NOT NULL,
  operation       text        NOT NULL CHECK (operation IN ('merge', 'split', 'override', 'accept', 'reject')),
  -- The listing a split, override or review is about; null for a merge of whole assets.
  source          text,
  source_asset_id text,
  from_asset_id   bigint,
  to_asset_id     bigint,
  -- How many rows of quotes and latest_quotes were re-pointed, and the listings that moved.
  quotes_moved    bigint      NOT NULL DEFAULT 0,
  latest_moved    integer     NOT NULL DEFAULT 0,
  listings        jsonb       NOT NULL DEFAULT '[]',
  note            text
);
CREATE INDEX identity_audit_from_idx ON identity_audit (from_asset_id);

-- An override, however it is written (the identity operations, or SQL by hand), takes the listing's history
-- with it in the same transaction: its mapping, every row of quotes and latest_quotes. The identity lock makes
-- it wait for loads in flight (src/db/identity-lock.ts). Written by hand, it is audited as the database user.
-- The operations move the rows themselves first (to count them), so for them this finds nothing left to move.
CREATE FUNCTION follow_asset_override() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_asset bigint;
  moved bigint;
  moved_latest integer;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('kasparro-etl:identity'));
  SELECT asset_id INTO old_asset FROM asset_mappings
   WHERE source = NEW.source AND source_asset_id = NEW.source_asset_id;
  IF old_asset IS NULL OR old_asset = NEW.asset_id THEN
    RETURN NULL;
  END IF;
  UPDATE quotes SET asset_id = NEW.asset_id WHERE source = NEW.source AND source_asset_id = NEW.source_asset_id;
  GET DIAGNOSTICS moved = ROW_COUNT;
  UPDATE latest_quotes SET asset_id = NEW.asset_id WHERE source = NEW.source AND source_asset_id = NEW.source_asset_id;
  GET DIAGNOSTICS moved_latest = ROW_COUNT;
  UPDATE asset_mappings SET asset_id = NEW.asset_id, method = 'override', confidence = 1
   WHERE source = NEW.source AND source_asset_id = NEW.source_asset_id;
  INSERT INTO identity_audit (actor, operation, source, source_asset_id, from_asset_id, to_asset_id, quotes_moved,
                              latest_moved, listings, note)
  VALUES ('sql:' || session_user, 'override', NEW.source, NEW.source_asset_id, old_asset, NEW.asset_id, moved,
          moved_latest, jsonb_build_array(jsonb_build_object('source', NEW.source, 'source_asset_id', NEW.source_asset_id)),
          NEW.note);
  RETURN NULL;
END
$$;
CREATE TRIGGER asset_overrides_follow AFTER INSERT OR UPDATE OF asset_id ON asset_overrides
  FOR EACH ROW EXECUTE FUNCTION follow_asset_override();
-- Overrides written before this took effect only for quotes loaded after them: bring their history along now.
UPDATE asset_overrides SET asset_id = asset_id;

-- /assets/:id is served from memory until the next change it could show, like /data: besides latest_quotes
-- (004), that is the asset's own row (a name or symbol set by a merge or an operator). Same function, same
-- channel: readers only need to know that something they serve may have changed.
CREATE TRIGGER assets_inserted AFTER INSERT ON assets REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER assets_updated AFTER UPDATE ON assets REFERENCING NEW TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER assets_deleted AFTER DELETE ON assets REFERENCING OLD TABLE AS changed
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();
CREATE TRIGGER assets_truncated AFTER TRUNCATE ON assets
  FOR EACH STATEMENT EXECUTE FUNCTION notify_quotes_changed();

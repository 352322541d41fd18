-- /data history (from/to) had no index led by time or by symbol: every such request read all of quotes, 2 s at
-- 10M rows and growing with history (issue 12). Newest first over any range now reads one page of this index,
-- in the order /data's keyset pages by (source_updated_at, source, source_asset_id); a time window reads only
-- its own rows; one symbol's history reads only that symbol's rows in the window. A symbol is matched
-- case-insensitively (upper(symbol), as latest_quotes_symbol_idx). Built inside the migration's transaction: on a
-- large existing table, writes wait until it is built (about a minute per 10M rows here).
CREATE INDEX quotes_observed_idx ON quotes (source_updated_at, source, source_asset_id);
CREATE INDEX quotes_symbol_observed_idx ON quotes (upper(symbol), source_updated_at);

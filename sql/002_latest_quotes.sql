-- The newest quote of each (source, source_asset_id), kept in the load's transaction, so "latest" queries read
-- one row per listing instead of scanning history.
CREATE TABLE latest_quotes (
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
  ingested_at        timestamptz NOT NULL,
  run_id             text        NOT NULL,
  PRIMARY KEY (source, source_asset_id)
);
-- Serve GET /data's default order (market cap, unknown last) and its keyset pages from the index.
CREATE INDEX latest_quotes_market_cap_idx
  ON latest_quotes ((COALESCE(market_cap_usd, -1)) DESC, source DESC, source_asset_id DESC, source_updated_at DESC);
CREATE INDEX latest_quotes_symbol_idx ON latest_quotes (upper(symbol));
CREATE INDEX latest_quotes_asset_idx ON latest_quotes (asset_id);

INSERT INTO latest_quotes
SELECT DISTINCT ON (source, source_asset_id)
       source, source_asset_id, source_updated_at, asset_id, symbol, name, price_usd, market_cap_usd, volume_24h_usd,
       percent_change_24h, rank, ingested_at, run_id
  FROM quotes
 ORDER BY source, source_asset_id, source_updated_at DESC;

import type { Sql } from '../../src/db/sql';

/**
 * The loaded data as comparable row sets, independent of generated ids: quotes by natural key and value,
 * assets as the set of source listings they group, raw payloads by content, quarantine by record and reason.
 */
export interface DataSnapshot {
  quotes: string[];
  assets: string[];
  raw: string[];
  quarantine: string[];
  latest: string[];
}

export async function snapshot(sql: Sql): Promise<DataSnapshot> {
  const quotes = await sql<{ k: string }[]>`
    SELECT concat_ws('|', source, source_asset_id, source_updated_at::text, symbol, name, price_usd::text,
                     market_cap_usd::text, volume_24h_usd::text, percent_change_24h::text, rank::text) AS k
      FROM quotes ORDER BY 1`;
  const assets = await sql<{ k: string }[]>`
    SELECT string_agg(source || ':' || source_asset_id, ',' ORDER BY source, source_asset_id) AS k
      FROM asset_mappings GROUP BY asset_id ORDER BY 1`;
  const raw = await sql<{ k: string }[]>`
    SELECT source || ':' || source_record_id || ':' || encode(content_hash, 'hex') AS k FROM raw_payloads ORDER BY 1`;
  const quarantine = await sql<{ k: string }[]>`
    SELECT source || ':' || source_record_id || ':' || reason AS k FROM quarantine ORDER BY 1`;
  const latest = await sql<{ k: string }[]>`
    SELECT concat_ws('|', source, source_asset_id, source_updated_at::text, price_usd::text) AS k FROM latest_quotes ORDER BY 1`;
  const keys = (rows: { k: string }[]) => rows.map((r) => r.k);
  return { quotes: keys(quotes), assets: keys(assets), raw: keys(raw), quarantine: keys(quarantine), latest: keys(latest) };
}

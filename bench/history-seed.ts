import type { Sql } from '../src/db/sql';

/** When tick 1 was observed; tick t is TICK later each. */
export const HISTORY_START = new Date('2026-01-01T00:00:00Z');
export const TICK_MS = 5 * 60_000;
export const SOURCES = ['coingecko', 'coinpaprika', 'csv'] as const;

export const tickTime = (t: number) => new Date(HISTORY_START.getTime() + t * TICK_MS);

/**
 * Synthetic history in the project's own schema, as a schedule running every 5 minutes leaves it: `listings`
 * assets, each listed by one of the three sources, and per tick one run of each source that observed all of its
 * listings (a quote and a raw payload per listing, the run's row in etl_runs with its counts). Raw payloads are a
 * few dozen bytes here, real ones about a kilobyte: the database size printed is a lower bound. A run's id is
 * a UUID, as Temporal's are: md5(source || tick).
 */
export class HistorySeed {
  private ticks = 0;

  constructor(
    private readonly sql: Sql,
    readonly listings: number,
  ) {}

  /** The ticks seeded so far; the newest is `tickTime(ticks)`. */
  get seededTicks(): number {
    return this.ticks;
  }

  async createListings(): Promise<void> {
    await this.sql`INSERT INTO assets (symbol, name) SELECT 'C' || g, 'Coin ' || g FROM generate_series(1, ${this.listings}) g`;
    await this.sql`
      INSERT INTO asset_mappings (source, source_asset_id, asset_id, method, confidence, symbol, symbol_key, name, rank)
      SELECT (${SOURCES as unknown as string[]}::text[])[1 + asset_id % 3], 'coin-' || asset_id, asset_id, 'new', 1,
             symbol, symbol, name, asset_id
        FROM assets`;
  }

  /** Appends ticks until the quotes table holds about `rows` rows, `chunk` ticks per statement. */
  async growTo(rows: number, chunk = 10): Promise<void> {
    const target = Math.max(1, Math.round(rows / this.listings));
    while (this.ticks < target) {
      const from = this.ticks + 1;
      const to = Math.min(target, this.ticks + chunk);
      await this.sql.begin(async (tx) => {
        await tx`
          INSERT INTO etl_runs (run_id, workflow_id, temporal_run_id, source, trigger, status, started_at, finished_at,
                                fetched, inserted, unchanged, invalid, batches)
          SELECT md5(s || t)::uuid::text, 'etl-' || s, md5(s || t)::uuid::text, s, 'schedule', 'succeeded',
                 ${HISTORY_START}::timestamptz + t * interval '5 minutes',
                 ${HISTORY_START}::timestamptz + t * interval '5 minutes' + interval '40 seconds',
                 ${Math.ceil(this.listings / 3)}, ${Math.ceil(this.listings / 3)}, 0, 0, ${Math.ceil(this.listings / 3000)}
            FROM unnest(${SOURCES as unknown as string[]}::text[]) s CROSS JOIN generate_series(${from}::int, ${to}::int) t`;
        await tx`
          INSERT INTO raw_payloads (source, source_record_id, content_hash, payload, locator, fetched_at, run_id)
          SELECT m.source, m.source_asset_id, decode(md5(m.source_asset_id || '@' || t), 'hex'),
                 jsonb_build_object('id', m.source_asset_id, 'tick', t), 'seed',
                 ${HISTORY_START}::timestamptz + t * interval '5 minutes', md5(m.source || t)::uuid::text
            FROM asset_mappings m CROSS JOIN generate_series(${from}::int, ${to}::int) t`;
        await tx`
          INSERT INTO quotes (source, source_asset_id, source_updated_at, asset_id, symbol, name, price_usd, market_cap_usd,
                              volume_24h_usd, percent_change_24h, rank, run_id)
          SELECT m.source, m.source_asset_id, ${HISTORY_START}::timestamptz + t * interval '5 minutes', m.asset_id, m.symbol,
                 m.name, (1 + m.asset_id % 997) * (1 + (t % 100) / 100.0),
                 CASE WHEN m.asset_id % 7 = 0 THEN NULL ELSE 1e6 * (${this.listings} - m.asset_id + 1) END,
                 1e5 * (1 + t % 17), (t % 21) - 10, m.asset_id, md5(m.source || t)::uuid::text
            FROM asset_mappings m CROSS JOIN generate_series(${from}::int, ${to}::int) t`;
      });
      this.ticks = to;
    }
    // latest_quotes: the newest tick is every listing's newest quote.
    await this.sql`
      INSERT INTO latest_quotes (source, source_asset_id, source_updated_at, asset_id, symbol, name, price_usd,
                                 market_cap_usd, volume_24h_usd, percent_change_24h, rank, ingested_at, run_id)
      SELECT source, source_asset_id, source_updated_at, asset_id, symbol, name, price_usd, market_cap_usd,
             volume_24h_usd, percent_change_24h, rank, ingested_at, run_id
        FROM quotes WHERE source_updated_at = ${tickTime(this.ticks)}
      ON CONFLICT (source, source_asset_id) DO UPDATE
        SET source_updated_at = excluded.source_updated_at, price_usd = excluded.price_usd,
            market_cap_usd = excluded.market_cap_usd, volume_24h_usd = excluded.volume_24h_usd,
            percent_change_24h = excluded.percent_change_24h, rank = excluded.rank, run_id = excluded.run_id`;
    await this.sql`VACUUM ANALYZE`;
  }
}

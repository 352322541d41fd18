import { migrate } from '../../src/db/migrate';
import { quarantine } from '../../src/db/quarantine';
import { storeRaw } from '../../src/db/raw';
import { releaseQuarantined } from '../../src/db/replay';
import type { Db } from '../../src/db/sql';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { loadQuotes, minutes, quote } from '../support/identity';

/** row_counts (sql/012) against count(*) over each table, per source: what /stats reads must be what is there. */
const COUNTED = { raw_payloads: 'true', quotes: 'true', quarantine: 'released_at IS NULL' } as const;

async function counters(db: Db): Promise<Record<string, number>> {
  const rows = await db<{ key: string; n: string }[]>`SELECT table_name || '/' || source AS key, n::text FROM row_counts WHERE n <> 0`;
  return Object.fromEntries(rows.map((r) => [r.key, Number(r.n)]));
}

async function counted(db: Db): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [table, where] of Object.entries(COUNTED)) {
    const rows = await db.unsafe<{ source: string; n: number }[]>(`SELECT source, count(*)::int AS n FROM ${table} WHERE ${where} GROUP BY source`);
    for (const r of rows) out[`${table}/${r.source}`] = r.n;
  }
  return out;
}

const raws = (source: string, ids: string[], tag = '') =>
  ids.map((id) => ({ id, payload: { id, tag, source }, locator: `test:${id}` }));

let db: TestDatabase;
beforeEach(async () => {
  db = await createTestDatabase();
});
afterEach(async () => {
  await db.drop();
});

test('When rows are stored, quarantined, released, quarantined again and deleted, then every count equals count(*)', async () => {
  const { sql } = db;
  const at = new Date('2026-12-03T12:00:00Z');
  const gecko = await storeRaw(sql, { source: 'coingecko', runId: 'r1', fetchedAt: at, records: raws('coingecko', ['a', 'b', 'c', 'd']) });
  // The same payloads again keep their rows: nothing new to count.
  await storeRaw(sql, { source: 'coingecko', runId: 'r2', fetchedAt: at, records: raws('coingecko', ['a', 'b']) });
  await storeRaw(sql, { source: 'csv', runId: 'r3', fetchedAt: at, records: raws('csv', ['x', 'y']) });
  await sql.begin((tx) => loadQuotes(tx, 'coingecko', [quote('a', 'AAA', 'Alpha', 1, 1, minutes(0)), quote('b', 'BBB', 'Beta', 2, 2, minutes(0))]));
  // Known quotes again (ON CONFLICT DO NOTHING) and one new observation.
  await sql.begin((tx) => loadQuotes(tx, 'coingecko', [quote('a', 'AAA', 'Alpha', 1, 1, minutes(0)), quote('a', 'AAA', 'Alpha', 1, 1.1, minutes(5))]));
  const held = [gecko[2], gecko[3]].map((rawId, i) => ({ rawId: rawId!, sourceRecordId: `c${i}`, reason: 'no price', payload: {} }));
  await quarantine(sql, { source: 'coingecko', runId: 'r1', records: held });
  expect(await counters(sql)).toEqual(await counted(sql));

  await releaseQuarantined(sql, { runId: 'r4', rawIds: [gecko[2]!] });
  expect(await counters(sql)).toEqual(await counted(sql));
  // Quarantined again (the released row is updated, the other left alone), then a retention-style delete.
  await quarantine(sql, { source: 'coingecko', runId: 'r5', records: held });
  await sql`DELETE FROM quotes WHERE source_updated_at < ${minutes(5)}`;
  const counts = await counters(sql);
  expect(counts).toEqual(await counted(sql));
  expect(counts).toEqual({ 'raw_payloads/coingecko': 4, 'raw_payloads/csv': 2, 'quotes/coingecko': 1, 'quarantine/coingecko': 2 });
});

test('When a transaction that wrote rows rolls back, then its counts go with it; a TRUNCATE clears them', async () => {
  const { sql } = db;
  const at = new Date('2026-12-03T12:00:00Z');
  await expect(
    sql.begin(async (tx) => {
      await storeRaw(tx, { source: 'coingecko', runId: 'r1', fetchedAt: at, records: raws('coingecko', ['a']) });
      expect(await counters(tx)).toEqual({ 'raw_payloads/coingecko': 1 });
      throw new Error('the load fails after writing');
    }),
  ).rejects.toThrow('the load fails');
  expect(await counters(sql)).toEqual({});
  await storeRaw(sql, { source: 'csv', runId: 'r2', fetchedAt: at, records: raws('csv', ['x', 'y']) });
  await sql`TRUNCATE raw_payloads CASCADE`;
  expect(await counters(sql)).toEqual({});
  expect(await counted(sql)).toEqual({});
});

test('When the migration meets rows stored before it, then it counts them', async () => {
  const { sql } = db;
  // The database as it was before 012: no counters, no triggers; rows written then.
  await sql`DROP TABLE row_counts`;
  await sql`DROP FUNCTION count_rows() CASCADE`;
  await sql`DELETE FROM schema_migrations WHERE name = '012_row_counts.sql'`;
  await storeRaw(sql, { source: 'csv', runId: 'r1', fetchedAt: new Date(), records: raws('csv', ['x', 'y', 'z']) });
  await sql.begin((tx) => loadQuotes(tx, 'coinpaprika', [quote('p', 'PPP', 'Pi', 1, 3, minutes(0))]));

  expect(await migrate(sql)).toEqual(['012_row_counts.sql']);
  expect(await counters(sql)).toEqual({ 'raw_payloads/csv': 3, 'quotes/coinpaprika': 1 });
  await storeRaw(sql, { source: 'csv', runId: 'r2', fetchedAt: new Date(), records: raws('csv', ['w']) });
  expect(await counters(sql)).toEqual({ 'raw_payloads/csv': 4, 'quotes/coinpaprika': 1 });
});

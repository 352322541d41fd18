import { QUOTES_CHANGED } from '../../src/db/change-feed';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
let notified = 0;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql.listen(QUOTES_CHANGED, () => {
    notified += 1;
  });
});
afterAll(async () => {
  await db.drop();
});

/** Runs `statement` on a connection that has never run the trigger function, so no cached plan hides an error. */
async function onFreshConnection(statement: string): Promise<void> {
  const conn = await db.sql.reserve();
  try {
    await conn.unsafe('DISCARD ALL');
    await conn.unsafe(statement);
  } finally {
    conn.release();
  }
}

// Every table a cached read serves from: /data (quotes, latest_quotes) and /assets/:id (latest_quotes, assets).
describe.each([
  ['quotes', 'source'],
  ['latest_quotes', 'source'],
  ['assets', 'name'],
])('the change triggers on %s', (table, column) => {
  test('When the table is truncated, then the TRUNCATE succeeds and readers are notified', async () => {
    const before = notified;
    await onFreshConnection(`TRUNCATE ${table} CASCADE`);
    await eventually(`a notification for TRUNCATE ${table}`, async () => notified > before, { timeoutMs: 5_000, intervalMs: 20 });
  });

  test('When a statement changes no row, then it succeeds and nobody is notified', async () => {
    const before = notified;
    await onFreshConnection(`DELETE FROM ${table} WHERE false`);
    await onFreshConnection(`UPDATE ${table} SET ${column} = ${column} WHERE false`);
    // A notification that was going to come would arrive well within this.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(notified).toBe(before);
  });
});

test('When an asset is renamed, then readers are notified', async () => {
  const [asset] = await db.sql<{ asset_id: string }[]>`INSERT INTO assets (symbol, name) VALUES ('NTF', 'Notify') RETURNING asset_id::text`;
  const before = notified;
  await db.sql`UPDATE assets SET name = 'Notify Renamed' WHERE asset_id = ${asset!.asset_id}`;
  await eventually('a notification for the rename', async () => notified > before, { timeoutMs: 5_000, intervalMs: 20 });
});

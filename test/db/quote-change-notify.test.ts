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

describe.each(['quotes', 'latest_quotes'])('the change triggers on %s', (table) => {
  test('When the table is truncated, then the TRUNCATE succeeds and readers are notified', async () => {
    const before = notified;
    await onFreshConnection(`TRUNCATE ${table} CASCADE`);
    await eventually(`a notification for TRUNCATE ${table}`, async () => notified > before, { timeoutMs: 5_000, intervalMs: 20 });
  });

  test('When a statement changes no row, then it succeeds and nobody is notified', async () => {
    const before = notified;
    await onFreshConnection(`DELETE FROM ${table} WHERE false`);
    await onFreshConnection(`UPDATE ${table} SET source = source WHERE false`);
    // A notification that was going to come would arrive well within this.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(notified).toBe(before);
  });
});

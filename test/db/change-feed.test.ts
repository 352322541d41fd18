import { QUOTES_CHANGED, watchQuoteChanges, type ChangeFeed } from '../../src/db/change-feed';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { testLogger } from '../support/logger';

let db: TestDatabase;
let feed: ChangeFeed;
beforeAll(async () => {
  db = await createTestDatabase();
  feed = watchQuoteChanges(db.sql, testLogger, 100);
});
afterAll(async () => {
  await feed.close();
  await db.drop();
});

/** The backends that LISTEN for quote changes on the test's database. */
const listeners = () => db.sql<{ pid: number }[]>`
  SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'listen %'`;

test('When a change is committed, then the version moves on', async () => {
  const first = await eventually('the first LISTEN', async () => feed.version());
  await db.sql`SELECT pg_notify(${QUOTES_CHANGED}, '')`;
  await eventually('the notification', async () => (feed.version() ?? 0) > first, { timeoutMs: 5_000, intervalMs: 20 });
});

test('When the listening connection is lost, then nothing is trusted until LISTEN is back, and changes are seen again', async () => {
  await eventually('a LISTEN in place', async () => feed.version() !== undefined);
  const [before] = await listeners();
  expect(before).toBeDefined();
  // As a PostgreSQL restart ends every backend. postgres.js's own listen() re-listens once and then gives up.
  await db.sql`SELECT pg_terminate_backend(${before!.pid})`;
  const connection = feed.connection();
  expect(connection).toBeDefined();
  await eventually('the loss noticed', async () => feed.version() === undefined, { timeoutMs: 5_000, intervalMs: 5 });
  expect(feed.connection()).toBeUndefined();

  const [after] = await eventually('a new LISTEN', async () => {
    const rows = await listeners();
    return rows.length > 0 && rows[0]!.pid !== before!.pid && rows;
  });
  const back = await eventually('a version again', async () => feed.version());
  await db.sql`SELECT pg_notify(${QUOTES_CHANGED}, '')`;
  await eventually('the notification on the new connection', async () => (feed.version() ?? 0) > back, { timeoutMs: 5_000, intervalMs: 20 });
  expect(after!.pid).not.toBe(before!.pid);
  expect(feed.connection()).toBe(connection! + 1);
});

/**
 * postgres.js 3.4.9 throws from a setImmediate, killing the process, when a query runs on a pinned connection
 * whose socket has closed (porsager/postgres#1208): a PostgreSQL restart during a load ended the whole system.
 * patches/postgres+3.4.9.patch makes such a query reject with CONNECTION_CLOSED; without it these tests die with
 * "Cannot read properties of null (reading 'write')".
 */
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';

let db: TestDatabase;
let admin: postgres.Sql;
beforeAll(async () => {
  db = await createTestDatabase();
  admin = postgres(db.url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await admin.end();
  await db.drop();
});

/** Ends the backend serving `pid`, as a PostgreSQL restart ends every backend, and waits until it is gone. */
async function killBackend(pid: number): Promise<void> {
  await admin`SELECT pg_terminate_backend(${pid})`;
  await eventually(`backend ${pid} gone`, async () => (await admin`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`).length === 0);
}

function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (err: unknown) => (err as { code?: string }).code,
  );
}

test('When a reserved connection loses its backend, then its next query rejects with CONNECTION_CLOSED', async () => {
  const reserved = await db.sql.reserve();
  const [{ pid }] = await reserved<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
  await killBackend(pid);
  // Give the driver the moment it needs to see the socket close.
  await new Promise((resolve) => setTimeout(resolve, 200));

  expect(await codeOf(reserved`SELECT 1`)).toBe('CONNECTION_CLOSED');
  reserved.release();
  const [{ one }] = await db.sql<[{ one: number }]>`SELECT 1 AS one`;
  expect(one).toBe(1);
});

test('When a transaction loses its backend, then sql.begin rejects, its rollback cannot crash, and the pool recovers and can close', async () => {
  const outcome = codeOf(
    db.sql.begin(async (tx) => {
      const [{ pid }] = await tx<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
      await tx`CREATE TEMP TABLE t (x int)`;
      await killBackend(pid);
      await tx`INSERT INTO t VALUES (1)`;
    }),
  );
  // 57P01 when the backend's goodbye ("terminating connection due to administrator command") arrives first.
  expect(['CONNECTION_CLOSED', '57P01']).toContain(await outcome);

  // Every connection of the pool is usable again: none was lost to the dead one.
  const pids = await Promise.all(Array.from({ length: 5 }, () => db.sql<[{ pid: number }]>`SELECT pg_backend_pid() AS pid, pg_sleep(0.05)`));
  expect(pids).toHaveLength(5);
});

test('When a transaction loses its backend, then none of its later statements runs on the reconnected connection', async () => {
  await db.sql`CREATE TABLE IF NOT EXISTS after_loss (x int)`;
  let resume!: () => void;
  const resumed = new Promise<void>((resolve) => (resume = resolve));
  const outcome = codeOf(
    db.sql.begin(async (tx) => {
      const [{ pid }] = await tx<[{ pid: number }]>`SELECT pg_backend_pid() AS pid`;
      await killBackend(pid);
      await resumed; // the pool has reconnected every connection, this one's included, for other queries
      await tx`INSERT INTO after_loss VALUES (1)`.catch(() => {});
      await tx`INSERT INTO after_loss VALUES (2)`;
    }),
  );
  expect(['CONNECTION_CLOSED', '57P01']).toContain(await outcome);
  await Promise.all(Array.from({ length: 5 }, () => db.sql`SELECT pg_sleep(0.05)`));
  resume();
  await new Promise((resolve) => setTimeout(resolve, 300));

  expect(await db.sql`SELECT x FROM after_loss`).toEqual([]);
});

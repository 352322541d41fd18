import { migrate } from '../../src/db/migrate';
import { createTestDatabase, type TestDatabase } from '../support/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase(); // already migrated once
});
afterAll(async () => {
  await db.drop();
});

test('When migrations run again, concurrently, then nothing is applied twice', async () => {
  const [a, b] = await Promise.all([migrate(db.sql), migrate(db.sql)]);
  expect([...a, ...b]).toEqual([]);
  const applied = await db.sql<{ name: string }[]>`SELECT name FROM schema_migrations ORDER BY name`;
  expect(applied.map((r) => r.name)).toEqual(expect.arrayContaining(['001_core.sql']));
  expect(new Set(applied.map((r) => r.name)).size).toBe(applied.length);
});

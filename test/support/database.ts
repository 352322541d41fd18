import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../src/config';
import { createMigratedDatabase, type MigratedDatabase } from '../../src/infra/scratch-postgres';

export type TestDatabase = MigratedDatabase;

/** A fresh, migrated database of its own for one test file, on the server `npm test` provides. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = loadConfig().databaseUrl;
  if (!serverUrl) throw new Error('DATABASE_URL is not set: run the suite with `npm test`');
  return createMigratedDatabase(serverUrl, `test_${randomBytes(6).toString('hex')}`);
}

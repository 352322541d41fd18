import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { loadConfig } from '../../src/config';
import { migrate } from '../../src/db/migrate';
import { createSql, type Sql } from '../../src/db/sql';

export interface TestDatabase {
  sql: Sql;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one test file, on the server `npm test` provides. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = loadConfig().databaseUrl;
  if (!serverUrl) throw new Error('DATABASE_URL is not set: run the suite with `npm test`');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const sql = createSql(url.toString(), { max: 5 });
  await migrate(sql);
  return {
    sql,
    url: url.toString(),
    async drop() {
      await sql.end();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

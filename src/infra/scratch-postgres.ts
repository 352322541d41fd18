import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { Config } from '../config';
import { migrate } from '../db/migrate';
import { createSql, type Sql } from '../db/sql';
import type { Logger } from '../logger';
import { startEmbeddedPostgres } from './embedded-postgres';
import { freePort } from './temporal-binaries';

/** Tests and benchmarks: DATABASE_URL's server if set, else a throw-away embedded PostgreSQL in a temp dir. */
export async function startScratchPostgres(
  config: Config,
  log: Logger,
): Promise<{ adminUrl: string; embedded: boolean; stop(): Promise<void> }> {
  if (config.databaseUrl) return { adminUrl: config.databaseUrl, embedded: false, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'kasparro-pg-'));
  const pg = await startEmbeddedPostgres({ dir, port: await freePort(), database: 'postgres', log });
  return {
    adminUrl: pg.adminUrl,
    embedded: true,
    async stop() {
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface MigratedDatabase {
  sql: Sql;
  url: string;
  /** Closes the pool and drops the database (a benchmark's can hold gigabytes). */
  drop(): Promise<void>;
}

/** A fresh, migrated database named `name` on the server at `adminUrl`: one per test file or benchmark case. */
export async function createMigratedDatabase(adminUrl: string, name: string, poolSize = 5): Promise<MigratedDatabase> {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const sql = createSql(url.toString(), { max: poolSize });
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

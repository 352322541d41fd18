import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config';
import { ConfigError } from '../config';
import { createSql, type Sql } from '../db/sql';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';

export function temporalAddress(config: Config): string {
  return config.temporal.address ?? DEFAULT_TEMPORAL_ADDRESS;
}

export async function connectClient(config: Config): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({ address: temporalAddress(config) });
  return { client: new Client({ connection, namespace: config.temporal.namespace }), connection };
}

export function connectDatabase(config: Config): Sql {
  if (!config.databaseUrl) {
    throw new ConfigError('DATABASE_URL is not set (only `npm start` runs an embedded PostgreSQL for you)');
  }
  return createSql(config.databaseUrl);
}

/**
 * The API under benchmark, in a process of its own so the load generator does not share its event loop: once as
 * configured and once with the read cache off, plus a no-database Express route serving the same bytes as
 * /data?limit=100, for comparison. Prints one JSON line with the three ports when ready. Configured through the environment like the real API (DATABASE_URL).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import express from 'express';
import { createApp } from '../api/app';
import { loadConfig } from '../src/config';
import { createSql } from '../src/db/sql';
import { createLogger } from '../src/logger';

async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new Error('DATABASE_URL is required');
  const sql = createSql(config.databaseUrl, { max: 10 });
  // Only /health reaches Temporal (TEMPORAL_ADDRESS, a dev server bench/api.ts starts with a worker on
  // TEMPORAL_TASK_QUEUE); the connection is lazy, so the other routes never wait for it.
  const client = new Client({ connection: Connection.lazy({ address: config.temporal.address ?? 'localhost:7233' }) });
  const listen = async (readCacheMs: number) => {
    const { app } = createApp({
      sql,
      log: createLogger({ level: config.log.level, pretty: false }),
      version: 'bench',
      temporal: { client, namespace: 'default', taskQueue: config.temporal.taskQueue, webUiUrl: config.api.webUiUrl },
      readCacheMs,
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  };
  const apiPort = await listen(config.api.readCacheMs);
  // The same app with the read cache off: what a page costs when every request queries PostgreSQL.
  const uncachedPort = await listen(0);

  const bytes = Buffer.from(await (await fetch(`http://127.0.0.1:${apiPort}/data?limit=100`)).arrayBuffer());
  const baseline = express();
  baseline.disable('x-powered-by');
  baseline.get('/data', (_req, res) => {
    res.type('application/json').send(bytes);
  });
  const base = baseline.listen(0, '127.0.0.1');
  await once(base, 'listening');
  // Exit normally on SIGTERM, so `--cpu-prof` in NODE_OPTIONS writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.stderr.write(`${JSON.stringify({ apiPort, uncachedPort, baselinePort: (base.address() as AddressInfo).port, bytes: bytes.length })}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

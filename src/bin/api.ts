import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Client } from '@temporalio/client';
import { createApp } from '../../api/app';
import { answerClientErrors } from '../../api/client-errors';
import type { Config } from '../config';
import type { Sql } from '../db/sql';
import type { Logger } from '../logger';
import { version } from '../../package.json';

/** Composition root of the HTTP API: config → app → listen. Returns a close() that drains in-flight requests. */
export async function startApi(config: Config, sql: Sql, client: Client, log: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const { app, close: closeApp } = createApp({
    sql,
    log: log.child({ component: 'api' }),
    version,
    temporal: { client, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, webUiUrl: config.api.webUiUrl },
    apiKey: config.api.apiKey,
    readCacheMs: config.api.readCacheMs,
  });
  if (!config.api.apiKey) log.warn('API_KEY is not set: POST /etl/run is open to anyone who can reach the API');
  const server: Server = app.listen(config.api.port, config.api.host);
  answerClientErrors(server);
  await once(server, 'listening');
  const url = `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}`;
  log.info({ url, docs: `${url}/docs` }, 'API listening');
  return {
    url,
    async close() {
      // Stop accepting, let in-flight requests finish, drop idle keep-alive sockets.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await closeApp();
    },
  };
}

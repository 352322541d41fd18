import { hostname } from 'node:os';
import type { Config } from '../config';
import { livePollers } from '../temporal/pollers';
import { connectClient } from './connect';

/** Container health probes (`etl healthcheck api|worker`): true when healthy. Each answers within ~8 s. */
export async function healthcheck(role: string, config: Config): Promise<boolean> {
  if (role === 'api') {
    // The API's own view of the system: database, Temporal and a polling worker (GET /health).
    const res = await fetch(`http://127.0.0.1:${config.api.port}/health`, { signal: AbortSignal.timeout(8_000) });
    return res.status === 200;
  }
  if (role === 'worker') return workerPolls(config);
  throw new Error(`healthcheck: unknown role "${role}" (api or worker)`);
}

/** A worker of this host (container) polls the task queue; one alive but no longer polling is unhealthy. */
async function workerPolls(config: Config): Promise<boolean> {
  const { client, connection } = await connectClient(config);
  try {
    const identities = await livePollers(client, { ...config.temporal, timeoutMs: 8_000 });
    return identities.some((identity) => identity.endsWith(`@${hostname()}`));
  } finally {
    await connection.close();
  }
}

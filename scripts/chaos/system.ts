import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { createSql, type Sql } from '../../src/db/sql';
import { createMigratedDatabase, type MigratedDatabase } from '../../src/infra/scratch-postgres';
import { freeStablePort } from '../../src/infra/temporal-binaries';
import { livePollers } from '../../src/temporal/pollers';
import { startIngest } from '../../src/temporal/start-run';
import { workflowIdFor } from '../../src/shared/names';
import { eventually } from '../../test/support/eventually';
import { pgCtlRestart } from '../../test/support/postgres-process';
import { exitOf, Processes, processesUsing, REPO_ROOT } from '../../test/support/processes';
import type { ChaosInfrastructure } from './infrastructure';

/**
 * The system as one scenario runs it, on a database of its own: either the distributed topology (two `etl worker`
 * processes and an `etl api`, on the external PostgreSQL) or `npm start`'s single process tree on its own
 * embedded PostgreSQL. Either way, configured only through the environment, as a user configures it.
 */
export interface SystemUnderTest {
  topology: 'distributed' | 'npm start';
  /** For the checks, on a pool of its own: it reconnects by itself after an outage. */
  sql: Sql;
  apiUrl: string;
  taskQueue: string;
  /** Processes that exited while they should not have, by name. */
  exited(): string[];
  /** distributed: SIGKILLs the worker running `source`'s activity (the other takes over); resolves once it is dead. */
  killWorkerRunning(source: string): Promise<void>;
  /** distributed: SIGKILLs the API process while requests are in flight, and starts another on the same port. */
  killApi(): Promise<void>;
  /** npm start: `pg_ctl restart -m fast` on its embedded server's data directory. */
  restartOwnPostgres(): Promise<void>;
  /** distributed: the containers' probes (Dockerfile, docker-compose.yml) agree; problems, if any. */
  probes(): Promise<string[]>;
  /** Stops everything; for npm start, a Ctrl-C, then a check that nothing it started outlives it. */
  stop(): Promise<string[]>;
}

export async function startDistributed(infra: ChaosInfrastructure, name: string): Promise<SystemUnderTest> {
  const db: MigratedDatabase = await createMigratedDatabase(infra.adminUrl, `chaos_${name.replace(/\W/g, '_')}`, 2);
  const processes = new Processes();
  const taskQueue = `chaos-${name}-${randomBytes(3).toString('hex')}`;
  const apiPort = await freeStablePort();
  const env = { ...process.env, ...infra.settings, DATABASE_URL: db.url, TEMPORAL_TASK_QUEUE: taskQueue, API_HOST: '127.0.0.1', API_PORT: String(apiPort) };
  const workers = [processes.cli(['worker'], env), processes.cli(['worker'], env)];
  // As the image starts it: migrations, schedules and a first run of every source (startRuns finds those).
  let api = processes.cli(['api', '--bootstrap'], env);
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const expectedExits = new Set<ChildProcess>();
  await eventually('both workers polling and the API answering', async () => {
    const pollers = await livePollers(infra.client, { namespace: infra.settings.TEMPORAL_NAMESPACE ?? 'default', taskQueue, timeoutMs: 5_000 });
    return pollers.length >= 2 && (await fetch(`${apiUrl}/health`).then((r) => r.status < 500, () => false));
  }, { timeoutMs: 90_000, intervalMs: 250 });

  return {
    topology: 'distributed',
    sql: db.sql,
    apiUrl,
    taskQueue,
    exited: () => [...workers, api].filter((p) => !expectedExits.has(p) && hasExited(p)).map((p) => (p === api ? 'api' : `worker ${p.pid}`)),
    async killWorkerRunning(source) {
      const handle = infra.client.workflow.getHandle(workflowIdFor(source));
      const victim = await eventually(`the worker running ${source}'s activity`, async () => {
        const pending = (await handle.describe()).raw.pendingActivities ?? [];
        const pid = Number(pending[0]?.lastWorkerIdentity?.split('@')[0]);
        return workers.find((w) => w.pid === pid && w.exitCode === null);
      }, { timeoutMs: 30_000, intervalMs: 20 });
      expectedExits.add(victim);
      victim.kill('SIGKILL');
      await exitOf(victim);
    },
    async killApi() {
      // Requests in flight when it dies: they fail on the client's side, and nothing else may.
      const load = Array.from({ length: 20 }, () => fetch(`${apiUrl}/data?limit=200`).catch(() => undefined));
      expectedExits.add(api);
      api.kill('SIGKILL');
      await exitOf(api);
      await Promise.all(load);
      api = processes.cli(['api'], env); // the bootstrap is done: a restarted API only serves
      await eventually('the new API answering', () => fetch(`${apiUrl}/health`).then((r) => r.status < 500, () => false), { intervalMs: 100 });
    },
    restartOwnPostgres: () => Promise.reject(new Error('the distributed topology has no PostgreSQL of its own')),
    async probes() {
      const probe = async (args: string[], extra: NodeJS.ProcessEnv = {}) => exitOf(processes.cli(['healthcheck', ...args], { ...env, ...extra }));
      const problems: string[] = [];
      for (const role of ['api', 'worker']) if ((await probe([role])) !== 0) problems.push(`etl healthcheck ${role} failed`);
      // A queue nobody polls is unhealthy.
      if ((await probe(['worker'], { TEMPORAL_TASK_QUEUE: 'nobody-polls-this' })) !== 1) problems.push('etl healthcheck worker passed on a queue nobody polls');
      return problems;
    },
    async stop() {
      await processes.stopAll();
      await db.drop();
      return [];
    },
  };
}

const START = resolve(REPO_ROOT, 'src', 'bin', 'start.ts');

export async function startNpmStart(infra: ChaosInfrastructure, dir: string, name: string): Promise<SystemUnderTest> {
  const dataDir = join(dir, `start-${name}`);
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755); // as root, PostgreSQL runs as a user of its own that must reach its directory
  const processes = new Processes();
  const taskQueue = `chaos-${name}-${randomBytes(3).toString('hex')}`;
  const [apiPort, pgPort] = [await freeStablePort(), await freeStablePort()];
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...infra.settings, DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(pgPort), TEMPORAL_TASK_QUEUE: taskQueue, API_PORT: String(apiPort),
  };
  delete env.DATABASE_URL; // its own embedded PostgreSQL under DATA_DIR; Temporal is the shared dev server
  const supervisor = processes.start(process.execPath, ['--import', 'tsx', START], { env });
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  await eventually('npm start up', () => fetch(`${apiUrl}/health`).then((r) => r.status < 500, () => false), { timeoutMs: 120_000, intervalMs: 250 });
  const pgDir = join(dataDir, 'postgres');
  const password = (await readFile(join(pgDir, 'pg-password'), 'utf8')).trim();
  const sql = createSql(`postgres://postgres:${password}@127.0.0.1:${pgPort}/kasparro`, { max: 2 });
  let stopped = false;

  return {
    topology: 'npm start',
    sql,
    apiUrl,
    taskQueue,
    exited: () => (!stopped && hasExited(supervisor) ? ['npm start'] : []),
    killWorkerRunning: () => Promise.reject(new Error('npm start runs one worker: nothing would take over')),
    killApi: () => Promise.reject(new Error('npm start serves the API from its one process')),
    probes: async () => [],
    restartOwnPostgres: () => pgCtlRestart(join(pgDir, 'pgdata')),
    async stop() {
      stopped = true;
      await sql.end();
      const exited = exitOf(supervisor);
      supervisor.kill('SIGINT');
      const problems: string[] = [];
      const timer = setTimeout(() => supervisor.kill('SIGKILL'), 60_000);
      const code = await exited;
      clearTimeout(timer);
      if (code !== 0) problems.push(`npm start exited ${code} on Ctrl-C`);
      const left = await processesUsing(dataDir);
      if (left.length) problems.push(`left running after Ctrl-C: pids ${left.join(', ')}`);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      await processes.stopAll();
      return problems;
    },
  };
}

/** Exited with a code, or killed by a signal (exitCode stays null then). */
const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/** Starts a run of every source under the scenario's task queue (npm start's bootstrap has started its own). */
export async function startRuns(client: Client, system: SystemUnderTest, sources: readonly string[]): Promise<void> {
  if (system.topology === 'npm start') return;
  for (const source of sources) await startIngest(client, { source, trigger: 'cli', taskQueue: system.taskQueue });
}

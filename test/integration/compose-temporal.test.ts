/**
 * docker-compose.yml's Temporal services and the app, run natively: there is no Docker engine here, so the
 * programs of the images (temporal-server, temporal-sql-tool, the `temporal` CLI of admin-tools, this repo's
 * `etl`) run as processes, with the entrypoint, command and environment the compose file gives each container,
 * read through compose-go. Only what a container network provides is replaced: service hostnames become
 * 127.0.0.1, fixed ports free ones, /etc/temporal/schema the server module's schema/. Unlike
 * the chaos suite (scripts/chaos.ts, on the dev server), this is the real server on PostgreSQL, with SQL visibility.
 */
import { execFile } from 'node:child_process';
import { chmod, readdir, readFile, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import postgres from 'postgres';
import { loadConfig } from '../../src/config';
import { freePort } from '../../src/infra/temporal-binaries';
import { scheduleIdFor, workflowIdFor } from '../../src/shared/names';
import { SOURCE_NAMES } from '../../src/sources';
import { startSimulator, type Simulator } from '../../src/simulator/server';
import { loadCompose, type ComposeService } from '../support/compose';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { eventually } from '../support/eventually';
import { testLogger } from '../support/logger';
import { startPostgresProcess, type PostgresProcess } from '../support/postgres-process';
import { exitOf, Processes, REPO_ROOT } from '../support/processes';
import { findTemporalServerTools, TEMPORAL_SERVER_VERSION, type TemporalServerTools } from '../support/temporal-server-tools';

const run = promisify(execFile);
const config = loadConfig();
const PASSWORD = `compose-${process.pid}`;

let tools: TemporalServerTools;
let services: Record<string, ComposeService>;
/** compose's temporal-db: a PostgreSQL server of this file's own, so Temporal's fixed database names are free. */
let temporalDb: PostgresProcess;
let serverUrl: URL;
let app: TestDatabase;
let simulator: Simulator;
let dir: string;
let client: Client | undefined;
const processes = new Processes();

beforeAll(async () => {
  const found = await findTemporalServerTools(config, testLogger);
  if (!found) throw new Error('temporal-server is built with Go: install Go (`npm test` builds it once into the cache)');
  tools = found;
  services = await loadCompose({ APP_DB_PASSWORD: PASSWORD, TEMPORAL_DB_PASSWORD: PASSWORD });
  dir = await mkdtemp(join(tmpdir(), 'kasparro-compose-temporal-'));
  await chmod(dir, 0o755); // as root, embedded PostgreSQL runs as a user of its own, who must reach temporal-db/
  temporalDb = await startPostgresProcess(join(dir, 'temporal-db'), await freePort());
  serverUrl = new URL(temporalDb.url);
  // temporal-db's image creates its POSTGRES_USER as a superuser; CREATEDB is all the schema job needs.
  await queryIn('postgres', `CREATE ROLE temporal LOGIN CREATEDB PASSWORD '${PASSWORD}'`);
  [app, simulator] = await Promise.all([createTestDatabase(), startSimulator({ coins: 300, seed: 7 })]);
  // The images' PATH: temporal-sql-tool in admin-tools, the `temporal` CLI too.
  await mkdir(join(dir, 'bin'));
  await symlink(tools.sqlTool, join(dir, 'bin', 'temporal-sql-tool'));
  if (!config.binaries.temporalCli) throw new Error('TEMPORAL_CLI_PATH is not set: run the suite with `npm test`');
  await symlink(config.binaries.temporalCli, join(dir, 'bin', 'temporal'));
}, 600_000);

afterAll(async () => {
  // Each step on its own: one that fails must not leave the rest (servers, the temp directory) behind.
  const steps = [
    async () => client?.connection.close(),
    () => processes.stopAll(),
    async () => simulator?.close(),
    async () => app?.drop(),
  ];
  const results = await Promise.allSettled(steps.map((step) => step()));
  await temporalDb?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  for (const result of results) if (result.status === 'rejected') throw result.reason;
}, 120_000);

test('When the compose file names the Temporal images, then they are of the release these programs are built from', () => {
  const minor = TEMPORAL_SERVER_VERSION.split('.').slice(0, 2).join('.');
  expect(services.temporal?.image).toBe(`temporalio/server:${minor}`);
  expect(services['temporal-schema']?.image).toBe(`temporalio/admin-tools:${minor}`);
  expect(services['temporal-namespace']?.image).toBe(`temporalio/admin-tools:${minor}`);
});

test('When the compose topology starts (schema, server, namespace, api, worker), then every first run succeeds on the real server', async () => {
  // A container's PATH, and the HOME Docker always sets (the `temporal` CLI reads its config from there).
  const path = `${join(dir, 'bin')}:${process.env.PATH ?? ''}`;
  const home = { HOME: dir };
  const pg = { SQL_HOST: serverUrl.hostname, SQL_PORT: serverUrl.port };

  // temporal-schema, twice: a `docker compose up` after a `down` runs it again on the existing databases.
  const schema = service('temporal-schema');
  const schemaScript = (schema.command?.[0] ?? '').replaceAll('/etc/temporal/schema', join(tools.moduleDir, 'schema'));
  for (let i = 0; i < 2; i++) {
    const code = await processes.exitCode(schema.entrypoint?.[0] ?? 'sh', [...(schema.entrypoint?.slice(1) ?? []), schemaScript], {
      env: { ...schema.environment, ...pg, ...home, PATH: path },
    });
    expect(code).toBe(0);
  }
  for (const [database, kind] of [['temporal', 'temporal'], ['temporal_visibility', 'visibility']] as const) {
    const rows = await queryIn<{ version: string }>(database, 'SELECT curr_version AS version FROM schema_version');
    expect(rows[0]?.version).toBe(await latestSchemaVersion(kind));
  }

  // temporal-namespace starts before the server answers (its healthcheck only sees a listening port) and waits.
  const ports = await serverPorts();
  const address = `127.0.0.1:${ports.FRONTEND_GRPC_PORT}`;
  const namespaceJob = service('temporal-namespace');
  const startNamespaceJob = () =>
    processes.start(namespaceJob.entrypoint?.[0] ?? 'sh', [...(namespaceJob.entrypoint?.slice(1) ?? []), ...(namespaceJob.command ?? [])], {
      env: { ...namespaceJob.environment, ...home, TEMPORAL_ADDRESS: address, PATH: path },
    });
  const firstNamespaceJob = startNamespaceJob();

  // temporal: the image's entrypoint renders its config template from the environment, then starts the server.
  const serverEnv = {
    ...service('temporal').environment,
    POSTGRES_SEEDS: serverUrl.hostname,
    DB_PORT: serverUrl.port,
    BIND_ON_IP: '127.0.0.1',
    DYNAMIC_CONFIG_FILE_PATH: join(tools.moduleDir, 'config', 'dynamicconfig', 'docker.yaml'),
    ...ports,
  };
  const rendered = await run(tools.renderTemplate, [join(tools.moduleDir, 'docker', 'config_template.yaml')], { env: serverEnv });
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'config', 'docker.yaml'), rendered.stdout);
  const serverLog = await open(join(dir, 'temporal-server.log'), 'w');
  try {
    processes.start(tools.server, ['--root', dir, '--env', 'docker', 'start'], { env: serverEnv, stdio: ['ignore', serverLog.fd, serverLog.fd] });
  } finally {
    await serverLog.close();
  }

  if ((await exitOf(firstNamespaceJob)) !== 0) {
    const lines = (await readFile(join(dir, 'temporal-server.log'), 'utf8')).trimEnd().split('\n');
    throw new Error(`temporal-namespace failed; the server's last log lines:\n${lines.slice(-10).join('\n')}`);
  }
  expect(await exitOf(startNamespaceJob())).toBe(0); // and again, as on every `up`
  const connection = await Connection.connect({ address });
  client = new Client({ connection });
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
  expect(Object.keys(customAttributes ?? {})).toContain('EtlSource');

  // api and worker, with the app image's commands; the sources point at the simulator as the README's offline
  // demo does, and schedules are set not to fire during the test.
  const appEnv = (name: string) => ({
    ...service(name).environment,
    DATABASE_URL: app.url,
    TEMPORAL_ADDRESS: address,
    COINGECKO_BASE_URL: simulator.url,
    COINPAPRIKA_BASE_URL: simulator.url,
    SCHEDULE_INTERVAL_COINGECKO: '1000d',
    SCHEDULE_INTERVAL_COINPAPRIKA: '1000d',
    SCHEDULE_INTERVAL_CSV: '1000d',
    LOG_LEVEL: 'warn',
    PATH: path,
    ...home,
  });
  const apiEnv = { ...appEnv('api'), API_HOST: '127.0.0.1', API_PORT: String(await freePort()) };
  const workerEnv = appEnv('worker');
  for (const [name, env] of [['api', apiEnv], ['worker', workerEnv]] as const) {
    const [command = 'node', ...args] = service(name).command ?? [];
    processes.start(command, args, { env, cwd: REPO_ROOT });
  }

  const runs = await eventually('a finished first run of every source', async () => {
    const rows = await app.sql<{ source: string; status: string }[]>`
      SELECT source, status FROM etl_runs WHERE status <> 'running' ORDER BY source`;
    return rows.length === SOURCE_NAMES.length && rows;
  }, { timeoutMs: 180_000, intervalMs: 500 });
  expect(runs).toEqual([...SOURCE_NAMES].sort().map((source) => ({ source, status: 'succeeded' })));

  // The search attribute works in SQL visibility; the schedules are in place.
  for (const source of SOURCE_NAMES) {
    const listed: string[] = [];
    for await (const execution of client.workflow.list({ query: `EtlSource = "${source}"` })) listed.push(execution.workflowId);
    expect(listed).toContain(workflowIdFor(source));
  }
  const schedules: string[] = [];
  for await (const schedule of client.schedule.list()) schedules.push(schedule.scheduleId);
  expect(schedules.sort()).toEqual(SOURCE_NAMES.map(scheduleIdFor).sort());

  // The containers' healthchecks pass.
  for (const [name, env] of [['api', apiEnv], ['worker', workerEnv]] as const) {
    const [kind, command = '', ...args] = service(name).healthcheck?.test ?? [];
    expect(kind).toBe('CMD');
    expect(await processes.exitCode(command, args, { env, cwd: REPO_ROOT })).toBe(0);
  }
}, 600_000);

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/**
 * The port variables of the server image's config template, each a free port below 32768: the server stores
 * membership ports in cluster_membership as smallint, and the system's ephemeral ports lie above that.
 */
async function serverPorts(): Promise<Record<string, string>> {
  const names = ['FRONTEND', 'INTERNAL_FRONTEND', 'MATCHING', 'HISTORY', 'WORKER'].flatMap((role) => [`${role}_GRPC_PORT`, `${role}_MEMBERSHIP_PORT`]);
  names.push('FRONTEND_HTTP_PORT', 'INTERNAL_FRONTEND_HTTP_PORT');
  const ports: Record<string, string> = {};
  for (const name of names) {
    for (;;) {
      const candidate = 20_000 + Math.floor(Math.random() * 12_000);
      if (Object.values(ports).includes(String(candidate))) continue;
      const port = await freePort(candidate).catch(() => undefined);
      if (port) {
        ports[name] = String(port);
        break;
      }
    }
  }
  return ports;
}

/** The highest versioned directory of the server module's PostgreSQL schema, as update-schema applies them. */
async function latestSchemaVersion(kind: 'temporal' | 'visibility'): Promise<string> {
  const entries = await readdir(join(tools.moduleDir, 'schema', 'postgresql', 'v12', kind, 'versioned'));
  const versions = entries.map((e) => e.replace(/^v/, '').split('.').map(Number) as [number, number]);
  versions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return versions.at(-1)?.join('.') ?? '';
}

/** One query in one database of temporal-db, as its superuser. */
async function queryIn<T extends object>(database: string, query: string): Promise<T[]> {
  const url = new URL(serverUrl.href);
  url.pathname = `/${database}`;
  const sql = postgres(url.href, { max: 1, onnotice: () => {} });
  try {
    return (await sql.unsafe(query)) as unknown as T[];
  } finally {
    await sql.end();
  }
}

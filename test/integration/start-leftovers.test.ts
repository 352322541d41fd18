/**
 * `npm start` must not leave a Temporal dev server or a PostgreSQL behind however its working process dies.
 * Here it is SIGKILLed, which no handler of its own can see: its supervisor stops what it had started.
 */
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '../../src/infra/temporal-binaries';
import { eventually } from '../support/eventually';
import { exitOf, Processes, REPO_ROOT } from '../support/processes';

const processes = new Processes();
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

/** Processes whose command line names `dir`: the dev server's database file, PostgreSQL's data directory. */
async function processesUsing(dir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const using = await Promise.all(
    pids.map(async (pid) => {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      return cmdline.includes(dir) && !cmdline.includes('start-leftovers') ? Number(pid) : undefined;
    }),
  );
  return using.filter((pid): pid is number => pid !== undefined && pid !== process.pid);
}

test('When the working process of npm start is SIGKILLed, then neither the dev server nor PostgreSQL outlives it', async () => {
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
  // pino writes the pid of the process that logs: the supervisor's child, which does the work.
  const workerPid = await new Promise<number>((ok, fail) => {
    const lines = createInterface({ input: supervisor.stdout! });
    lines.on('line', (line) => {
      if (!line.includes('kasparro-etl is up')) return;
      ok((JSON.parse(line) as { pid: number }).pid);
      lines.close();
      supervisor.stdout!.resume(); // keep draining the rest of its log
    });
    supervisor.once('exit', (code) => fail(new Error(`npm start exited (${code}) before it was up`)));
  });
  expect(workerPid).not.toBe(supervisor.pid);
  // Both servers run under DATA_DIR; PostgreSQL is several processes.
  expect((await processesUsing(dataDir)).length).toBeGreaterThanOrEqual(2);

  process.kill(workerPid, 'SIGKILL');

  expect(await exitOf(supervisor)).not.toBe(0);
  await eventually('every server under DATA_DIR gone', async () => (await processesUsing(dataDir)).length === 0, { timeoutMs: 20_000 });
}, 240_000);

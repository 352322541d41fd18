/**
 * `make smoke` (`npm run smoke`): the whole system as a developer starts it (`npm start -- --demo`), checked from
 * the outside through its HTTP API, the README's own commands (scripts/smoke/readme.ts lists them) and the market
 * simulator's counters. Steps:
 *
 *   readme          the README commands run below are still in the README, word for word
 *   start           npm start -- --demo, on a temporary DATA_DIR and free ports
 *   health          GET /health is 200
 *   ingest          every source's first run succeeded; /data, /runs and /stats agree with the simulator
 *   inject-failure  POST /etl/run fails coinpaprika (fatal) after 1,000 records: committed, checkpoint incomplete
 *   restart-resume  Ctrl-C, a clean exit, start again: the next run reads on from the checkpoint, no duplicates
 *   runbook-reset   the README runbook: the CLI's failing run, its psql queries, `temporal workflow reset`
 *   rate-limit      two 429s with Retry-After: the fetch activity waits and retries, and the run completes
 *   cli             the README's other commands: the CLI block (its fatal run fails; its servers come up), the
 *                   simulator, compose check, benchmarks (--quick)
 *   real-apis       plain `npm start` beside it: up and healthy offline, the CSV ingested, each API run retrying
 *                   with an error naming the real host; Ctrl-C stops it cleanly
 *   stop            Ctrl-C, a clean exit, the data directory removed (runs after a failure too)
 *
 * stdout: one line per step, `PASS <step>: <evidence>` or `FAIL <step>: <reason>`; the exit code is 1 when any
 * failed. The system's log and the README commands' transcript are kept (path on stderr) when a step fails.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { loadConfig, type Config } from '../src/config';
import { freeStablePort } from '../src/infra/temporal-binaries';
import { createChecks } from './smoke/checks';
import { README_COMMANDS, readmeShell } from './smoke/readme';
import { runSteps, type Step } from './smoke/steps';
import { System } from './smoke/system';

const ROOT = join(__dirname, '..');
/** The smoke test ends, cleaned up, after this long whatever happens. */
const OVERALL_TIMEOUT_MS = 15 * 60_000;

/**
 * The project's own settings are not inherited from the developer's shell (a DATABASE_URL or TEMPORAL_ADDRESS
 * there would point the smoke system at their services): it runs on the documented defaults plus `smokeSettings`.
 * Where the Temporal binaries are found is inherited.
 */
const PROJECT_SETTING =
  /^(DATABASE_URL|DATA_DIR|EMBEDDED_PG_PORT|(API|SIMULATOR|ETL|LOG|COINGECKO|COINPAPRIKA|CSV|SCHEDULE_INTERVAL)_\w+|TEMPORAL_(?!CLI_PATH$|TEST_SERVER_PATH$)\w+)$/;

async function smokeSettings(dataDir: string): Promise<Record<string, string>> {
  const [pg, api, ui, temporal, simulator] = (await freePorts(5)) as [number, number, number, number, number];
  return {
    DATA_DIR: dataDir,
    // Free ports: no collision with a developer's `npm start` (54329, 8080, 8233, 7233, 4010) or the tests.
    EMBEDDED_PG_PORT: String(pg),
    API_PORT: String(api),
    TEMPORAL_UI_PORT: String(ui),
    TEMPORAL_DEV_PORT: String(temporal),
    SIMULATOR_PORT: String(simulator),
    // About 1,800 listings per source, in batches of 500: runs take seconds, and failing after 1,000 records
    // leaves a checkpoint in the middle of the listing.
    SIMULATOR_COINS: '2000',
    ETL_BATCH_SIZE: '500',
    COINPAPRIKA_PAGE_SIZE: '500',
    // The schedules are created but do not fire during the smoke test: every run in it is one it asked for.
    SCHEDULE_INTERVAL_COINGECKO: '1000d',
    SCHEDULE_INTERVAL_COINPAPRIKA: '1000d',
    SCHEDULE_INTERVAL_CSV: '1000d',
    // JSON log lines, which the smoke test reads (where each run started from).
    LOG_PRETTY: 'false',
  };
}

async function main(): Promise<number> {
  const own = loadConfig();
  const work = await mkdtemp(join(tmpdir(), 'kasparro-smoke-'));
  // As root, embedded PostgreSQL runs as a user of its own, which must be able to reach DATA_DIR.
  await chmod(work, 0o755);
  const dataDir = join(work, 'data');
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !PROJECT_SETTING.test(name)));
  const env = { ...inherited, ...(await smokeSettings(dataDir)) };
  const config = loadConfig(env); // what the system will parse: a bad setting stops here
  const cli = temporalCli(own);
  const searched = `TEMPORAL_CLI_PATH, PATH, ${join(own.binaries.cacheDir, 'bin', 'temporal')}`;
  const temporalAddress = `127.0.0.1:${config.temporal.devPort}`;
  const system = new System({ command: README_COMMANDS.start, cwd: ROOT, env, dataDir, logFile: join(work, 'system.log') });

  // The default `npm start` (real APIs) runs beside it, on settings of its own.
  // Not under a name that starts with dataDir's: System.leftovers() matches command lines by substring.
  const realDataDir = join(work, 'real-apis-data');
  const realEnv = { ...inherited, ...(await smokeSettings(realDataDir)) };
  const realConfig = loadConfig(realEnv);
  const realSystem = new System({ command: README_COMMANDS.startReal, cwd: ROOT, env: realEnv, dataDir: realDataDir, logFile: join(work, 'system-real-apis.log') });

  const remover = (dir: string) => async () => {
    await rm(dir, { recursive: true, force: true });
    if (existsSync(dir)) throw new Error(`${dir} could not be removed`);
    return `${dir} removed`;
  };
  const removeDataDir = remover(dataDir);
  const checks = createChecks({
    system,
    setup:
      `DATA_DIR ${dataDir}; API :${config.api.port}, Temporal :${config.temporal.devPort}, Web UI :${config.temporal.uiPort}, ` +
      `PostgreSQL :${config.embeddedPostgresPort}, simulator :${config.simulator.port} with ${config.simulator.coins} coins`,
    apiUrl: `http://${config.api.host}:${config.api.port}`,
    simulatorUrl: `http://127.0.0.1:${config.simulator.port}`,
    temporal: { address: temporalAddress, namespace: config.temporal.namespace, cli, searched },
    readme: readmeShell({
      place: { dataDir: config.dataDir, postgresPort: config.embeddedPostgresPort },
      // `npm run etl` and the Temporal CLI both take the address from TEMPORAL_ADDRESS; `temporal` is on PATH.
      env: { ...env, TEMPORAL_ADDRESS: temporalAddress, PATH: [cli ? dirname(cli) : '', env.PATH ?? ''].filter(Boolean).join(delimiter) },
      cwd: ROOT,
      transcript: join(work, 'commands.log'),
      timeoutMs: 120_000,
    }),
    removeDataDir,
    realApis: {
      system: realSystem,
      apiUrl: `http://${realConfig.api.host}:${realConfig.api.port}`,
      temporalAddress: `127.0.0.1:${realConfig.temporal.devPort}`,
      removeDataDir: remover(realDataDir),
    },
  });

  const steps: Step[] = [
    { name: 'readme', timeoutMs: 10_000, run: checks.readme },
    { name: 'start', timeoutMs: 200_000, run: checks.start },
    { name: 'health', timeoutMs: 100_000, run: checks.health },
    { name: 'ingest', timeoutMs: 150_000, run: checks.ingest },
    { name: 'inject-failure', timeoutMs: 120_000, run: checks.injectFailure },
    { name: 'restart-resume', timeoutMs: 420_000, run: checks.restartResume },
    { name: 'runbook-reset', timeoutMs: 300_000, run: checks.runbookReset },
    { name: 'rate-limit', timeoutMs: 300_000, run: checks.rateLimit },
    { name: 'cli', timeoutMs: 480_000, run: checks.cli },
    { name: 'real-apis', timeoutMs: 400_000, run: checks.realApis },
    { name: 'stop', timeoutMs: 120_000, run: checks.stop, always: true },
  ];

  // Whatever ends the smoke test (a failure, a Ctrl-C, the overall timeout), the system does not outlive it.
  const cleanUp = async (passed: boolean) => {
    const killed = [...(await system.kill()), ...(await realSystem.kill())];
    if (killed.length > 0) console.error(`smoke: killed what was still running: ${killed.join('; ')}`);
    await rm(dataDir, { recursive: true, force: true });
    await rm(realDataDir, { recursive: true, force: true });
    const kept = await readdir(work);
    if (passed || kept.length === 0) await rm(work, { recursive: true, force: true });
    else console.error(`smoke: kept for a look: ${kept.map((name) => join(work, name)).join(', ')}`);
  };
  let aborting = false;
  const abort = (reason: string, code: number) => {
    // A terminal's Ctrl-C can arrive twice (directly and relayed by tsx); the first one is being handled.
    if (aborting) return;
    aborting = true;
    console.error(`smoke: ${reason}; stopping the system`);
    void cleanUp(false).finally(() => process.exit(code));
  };
  process.on('SIGINT', () => abort('interrupted', 130));
  process.on('SIGTERM', () => abort('terminated', 143));
  setTimeout(() => abort(`not finished after ${OVERALL_TIMEOUT_MS / 60_000} minutes`, 1), OVERALL_TIMEOUT_MS).unref();

  let passed = false;
  try {
    passed = await runSteps(steps, (line) => process.stdout.write(`${line}\n`));
  } finally {
    await cleanUp(passed);
  }
  return passed ? 0 : 1;
}

/** The Temporal CLI `npm start` will use, looked for in its order (src/infra/temporal-binaries.ts). */
function temporalCli(config: Config): string | undefined {
  const onPath = config.binaries.searchPath.split(delimiter).filter(Boolean).map((dir) => join(dir, 'temporal'));
  const candidates = [config.binaries.temporalCli, ...onPath, join(config.binaries.cacheDir, 'bin', 'temporal')];
  return candidates.find((path): path is string => Boolean(path && existsSync(path)));
}

/** Held for minutes before they are bound (the real-apis system starts late): stable ones. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freeStablePort());
  return [...ports];
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

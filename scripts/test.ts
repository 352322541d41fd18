/**
 * `npm test`: provisions what the suite needs on a fresh machine, then runs jest.
 *  - the Temporal CLI (dev server) and the time-skipping test server, built or fetched once into a cache
 *    outside the repo (see src/infra/temporal-binaries.ts);
 *  - temporal-server and temporal-sql-tool of the release docker-compose.yml runs, built with Go into that cache,
 *    for test/integration/compose-temporal.test.ts;
 *  - PostgreSQL: DATABASE_URL if set, else a throw-away embedded server;
 *  - the browser of test/browser: @sparticuz/chromium's, unpacked once into that cache (test/support/browser.ts
 *    says the order), here rather than by the first browser test files, which jest would start side by side.
 * Arguments are passed to jest: `npm test -- test/unit`. Jest reports on stderr; at the end one line on stdout says
 * how many tests ran, passed and failed (also in test-artifacts/jest/summary.txt), so a log that keeps stdout, or
 * only its tail, still shows that the suite ran.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { startScratchPostgres } from '../src/infra/scratch-postgres';
import { findTemporalCli, findTestServer, timeTestServerStart } from '../src/infra/temporal-binaries';
import { createLogger } from '../src/logger';
import { packagedChromium } from '../test/support/packaged-chromium';
import { findTemporalServerTools } from '../test/support/temporal-server-tools';

async function main(): Promise<number> {
  const config = loadConfig();
  const log = createLogger({ level: config.log.level, name: 'test-setup' });
  const [cli, testServer, serverTools] = await Promise.all([
    findTemporalCli(config, log),
    findTestServer(config, log),
    findTemporalServerTools(config, log),
    process.env.CHROMIUM_PATH ? undefined : packagedChromium(config.binaries.cacheDir, log),
  ]);
  if (!cli || !testServer) {
    log.error({ cli, testServer }, 'Temporal binaries missing: install Go and Maven, or set TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH');
    return 1;
  }
  // Only compose-temporal.test.ts needs these; it fails naming Go when they are missing.
  if (!serverTools) log.warn('Go is not installed: temporal-server cannot be built, so compose-temporal.test.ts will fail');

  log.info({ ms: await timeTestServerStart(testServer) }, 'time-skipping test server start-up (the SDK allows 5000 ms)');

  const postgres = await startScratchPostgres(config, log);
  const adminUrl = postgres.adminUrl;

  // A results file left from an earlier run must not be summarised as this one's.
  rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  try {
    return await new Promise<number>((resolve) => {
      const jest = spawn(process.execPath, [require.resolve('jest/bin/jest'), '--json', `--outputFile=${RESULTS}`, ...process.argv.slice(2)], {
        stdio: 'inherit',
        // Each test file creates its own database on this server (test/support/database.ts).
        env: {
          ...process.env,
          DATABASE_URL: adminUrl,
          ...(cli ? { TEMPORAL_CLI_PATH: cli } : {}),
          ...(testServer ? { TEMPORAL_TEST_SERVER_PATH: testServer } : {}),
        },
      });
      jest.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    });
  } finally {
    await postgres.stop();
    summarize();
  }
}

const ARTIFACTS = join(__dirname, '..', 'test-artifacts', 'jest');
const RESULTS = join(ARTIFACTS, 'results.json');

/** `npm test: 616 tests in 42 files: 616 passed, 0 failed, 0 pending (417 s)`, or why there is no such line. */
function summarize(): void {
  let line: string;
  try {
    const r = JSON.parse(readFileSync(RESULTS, 'utf8')) as {
      numTotalTests: number; numPassedTests: number; numFailedTests: number; numPendingTests: number;
      numTotalTestSuites: number; numFailedTestSuites: number; startTime: number;
    };
    const seconds = Math.round((Date.now() - r.startTime) / 1000);
    line =
      `npm test: ${r.numTotalTests} tests in ${r.numTotalTestSuites} files: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ` +
      `${r.numPendingTests} pending; ${r.numFailedTestSuites} file(s) failed (${seconds} s)`;
  } catch (err) {
    line = `npm test: jest wrote no results (${(err as Error).message})`;
  }
  writeFileSync(join(ARTIFACTS, 'summary.txt'), `${line}\n`);
  process.stdout.write(`${line}\n`);
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

/**
 * `npx tsx scripts/fuzz-api.ts`: Schemathesis against the real API and its own /openapi.json. The API runs as
 * `npm start -- --demo` composes it (PostgreSQL, a Temporal dev server, a worker, the market simulator, an
 * API_KEY), with data loaded by real runs (scripts/fuzz-api/data.ts); then every operation is fuzzed with every
 * parameter, stateful sequences included, and every response checked (scripts/fuzz-api/schemathesis.toml). Exits
 * non-zero on any failed check, on a schemathesis error, or when it runs past its time limit.
 *
 *   npx tsx scripts/fuzz-api.ts                      # the CI run
 *   npx tsx scripts/fuzz-api.ts -- --phases fuzzing  # arguments after -- are added to `st run`
 *   npx tsx scripts/fuzz-api.ts --serve              # the same API with the same data, until Ctrl-C: reproduce by hand
 *
 * The app's log (and Temporal's) goes to test-artifacts/fuzz-api/app.log, the JUnit and NDJSON reports beside it.
 */
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { runInOwnProcessGroup } from '../src/bin/process-group';
import { onShutdownSignal } from '../src/bin/signals';
import { loadConfig } from '../src/config';
import { loadFuzzData, stopInFlightRuns } from './fuzz-api/data';
import { documentWithLinks, writeDictionaries } from './fuzz-api/document';
import { summarizeRequests } from './fuzz-api/report';
import { ensureSchemathesis, reportPaths, runSchemathesis, schemathesisCommand } from './fuzz-api/schemathesis';
import { startFuzzStack } from './fuzz-api/stack';
import { Teardown } from './teardown';

const ARTIFACTS = resolve(__dirname, '..', 'test-artifacts', 'fuzz-api');
/** Enough listings for pages, history and cross-source matches; few enough that a run takes a second. */
const COINS = 300;
const SEED = 20261203;
/**
 * Measured on two cores: start-up 8-15 s, data 6-11 s, schemathesis 85 s idle and 130 s with other work sharing
 * the cores. Past these limits something hangs, and the run fails saying so.
 */
const DATA_TIMEOUT_MS = 90_000;
const FUZZ_TIMEOUT_MS = 240_000;

const say = (line: string) => console.error(`fuzz-api: ${line}`);

async function main(): Promise<void> {
  if ((await runInOwnProcessGroup()) === 'supervisor') return;
  const args = process.argv.slice(2);
  const serve = args.includes('--serve');
  const extraArgs = args.filter((a) => a !== '--serve' && a !== '--');
  const boot = loadConfig();
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  await rm(ARTIFACTS, { recursive: true, force: true });
  await mkdir(ARTIFACTS, { recursive: true });
  const log = pino({ name: 'fuzz-api', level: boot.log.level }, pino.destination({ dest: join(ARTIFACTS, 'app.log'), sync: true }));
  const st = await ensureSchemathesis(boot.binaries.cacheDir, say);

  const stopping = new AbortController();
  onShutdownSignal(() => stopping.abort());
  const teardown = new Teardown(stopping.signal);
  try {
    const stack = await startFuzzStack(boot, log, teardown, COINS);
    teardown.add('runs in flight', () => stopInFlightRuns(stack));
    say(`API up at ${stack.apiUrl} (${elapsed()}); loading data through real runs`);
    const data = await withDeadline(loadFuzzData(stack), DATA_TIMEOUT_MS, 'loading data');
    say(`data loaded (${elapsed()}): ${JSON.stringify(data)}`);
    const document = await documentWithLinks(stack, ARTIFACTS);
    await writeDictionaries(stack, ARTIFACTS);
    stopping.signal.throwIfAborted();

    const fuzz = { document, apiUrl: stack.apiUrl, apiKey: stack.apiKey, seed: SEED, reportDir: ARTIFACTS, extraArgs };
    if (serve) {
      say(`serving until Ctrl-C: ${stack.apiUrl}/docs, X-API-Key: ${stack.apiKey}`);
      say(`fuzz it: ${schemathesisCommand(st, fuzz)}`);
      await once(stopping.signal, 'abort');
      return;
    }
    const code = await runSchemathesis(st, { ...fuzz, timeoutMs: FUZZ_TIMEOUT_MS, signal: stopping.signal });
    say(await summarizeRequests(reportPaths(ARTIFACTS).ndjson));
    say(`schemathesis exited ${code} (${elapsed()}); reports in ${ARTIFACTS}`);
    process.exitCode = stopping.signal.aborted ? 130 : code;
  } catch (err) {
    if (!stopping.signal.aborted) throw err;
    process.exitCode = 130;
  } finally {
    await teardown.run(log);
    say(`stopped (${elapsed()})`);
  }
}

async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

/**
 * `make chaos` (`npm run chaos`): the chaos suite. A clean run of every source first; then, for each failure in
 * scripts/chaos/failures.ts, a fresh database, a run of every source at once, the failure injected at a random
 * batch of each, and the result held to the clean run's: quotes, latest_quotes, assets, raw payloads and
 * quarantine equal as row sets, each run `succeeded` with the same counts, no process of the system exited
 * unasked, /health down during an outage of a dependency and 200 at the end. Prints the table (Markdown, as the
 * README shows it) and exits non-zero if any row fails.
 *
 *   npm run chaos                       # every failure, a random point each (the seed is printed)
 *   npm run chaos -- --seed 7           # the same points again
 *   npm run chaos -- --only temporal    # failures whose id contains the text
 *
 * Logs of the system's processes go to stderr at warn level; the table also to test-artifacts/chaos/table.md.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { runInOwnProcessGroup } from '../src/bin/process-group';
import { onShutdownSignal } from '../src/bin/signals';
import { loadConfig } from '../src/config';
import { mulberry32 } from '../src/simulator/market';
import { SOURCE_NAMES } from '../src/sources';
import { FAILURES } from './chaos/failures';
import { startChaosInfrastructure } from './chaos/infrastructure';
import { formatTable, passed } from './chaos/report';
import { runScenario, type Baseline, type ScenarioOutcome } from './chaos/scenario';
import { startDistributed, startNpmStart } from './chaos/system';
import { Teardown } from './teardown';

const ARTIFACTS = resolve(__dirname, '..', 'test-artifacts', 'chaos');
/** The failure hits after at least this many batches of every source, and before the last. */
const POINTS = { min: 2, max: 9 };

const say = (line: string) => console.error(`chaos: ${line}`);

async function main(): Promise<void> {
  if ((await runInOwnProcessGroup()) === 'supervisor') return;
  const { values } = parseArgs({ options: { seed: { type: 'string' }, only: { type: 'string' } } });
  const seed = Number(values.seed ?? Math.floor(Math.random() * 1e6));
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const failures = FAILURES.filter((f) => !values.only || f.id.includes(values.only));
  if (!failures.length) throw new Error(`no failure's id contains ${values.only}: ${FAILURES.map((f) => f.id).join(', ')}`);
  const boot = loadConfig();
  // The servers' own warnings (a dev server's pollers while it restarts) are expected here: errors only.
  const log = pino({ name: 'chaos', level: 'error' });
  const started = Date.now();
  const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  say(`seed ${seed}`);

  const stopping = new AbortController();
  onShutdownSignal(() => stopping.abort());
  const teardown = new Teardown(stopping.signal);
  const dir = await mkdtemp(join(tmpdir(), 'kasparro-chaos-'));
  teardown.add('scratch directory', () => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755); // as root, PostgreSQL runs as a user of its own that must reach its directory
  const outcomes: ScenarioOutcome[] = [];
  try {
    const infra = await startChaosInfrastructure(boot, dir, log, teardown);
    say(`infrastructure up (${elapsed()})`);
    const cleanSystem = await startDistributed(infra, 'clean');
    const clean = await runScenario({ infra, system: cleanSystem, sources: SOURCE_NAMES });
    await cleanSystem.stop();
    const baseline: Baseline = clean.baseline;
    outcomes.push(clean.outcome);
    say(`clean run (${elapsed()}): ${JSON.stringify(baseline.runs)}`);

    for (const failure of failures) {
      stopping.signal.throwIfAborted();
      const point = POINTS.min + Math.floor(random() * (POINTS.max - POINTS.min + 1));
      say(`${failure.id}: starting, the failure at batch ${point} (${elapsed()})`);
      const system = failure.topology === 'npm start' ? await startNpmStart(infra, dir, failure.id) : await startDistributed(infra, failure.id);
      try {
        const { outcome } = await runScenario({
          infra, system, sources: SOURCE_NAMES, baseline, failure: { name: failure.name, injection: failure.injection(infra, pick), point },
        });
        outcome.problems.push(...(await system.stop()));
        outcomes.push(outcome);
        say(`${failure.id}: ${passed(outcome) ? 'passed' : `FAILED: ${outcome.problems.join('; ') || 'rows or counts differ'}`} (${elapsed()})`);
      } catch (err) {
        await system.stop().catch(() => []);
        throw err;
      }
    }
  } finally {
    await teardown.run(log);
  }
  const table = formatTable(outcomes);
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(join(ARTIFACTS, 'table.md'), `${table}\n`);
  console.log(table);
  const failed = outcomes.filter((o) => !passed(o));
  say(`${outcomes.length - failed.length} of ${outcomes.length} scenarios passed, seed ${seed}, ${elapsed()}`);
  process.exitCode = failed.length ? 1 : 0;
}

main().then(
  () => process.exit(),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

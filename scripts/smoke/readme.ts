import { spawn } from 'node:child_process';
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The README commands the smoke test runs, as the README spells them. They run in `sh` as a developer would type
 * them; the only edits are the smoke system's own data directory and PostgreSQL port in place of `.data` and
 * 54329 (see `localize`), and its Temporal address in TEMPORAL_ADDRESS, which `npm run etl` and the Temporal CLI
 * both read. checkVerbatim() fails the smoke test when the README no longer says any of them.
 */
export const README_COMMANDS = {
  start: 'npm start -- --demo',
  startReal: 'npm start',
  databaseUrl: 'export DATABASE_URL="postgres://postgres:$(cat .data/postgres/pg-password)@127.0.0.1:54329/kasparro"',
  failRun: 'npm run etl -- run coinpaprika --fail-after 1000 --mode fatal --wait',
  recentRuns: 'psql "$DATABASE_URL" -c "select run_id, status, fetched, error from etl_runs order by started_at desc limit 3"',
  checkpoints: 'psql "$DATABASE_URL" -c "select source, complete, cursor from etl_checkpoints"',
  reset: 'temporal workflow reset -w etl-coinpaprika --type FirstWorkflowTask --reason retry',
  nextRun: 'npm run etl -- run coinpaprika',
  duplicates:
    'psql "$DATABASE_URL" -c "select count(*) from (select 1 from quotes group by source, source_asset_id, source_updated_at having count(*) > 1) d"',
  runAll: 'npm run etl -- run all',
  failRunGecko: 'npm run etl -- run coingecko --fail-after 500 --mode fatal --wait',
  worker: 'npm run etl -- worker',
  api: 'npm run etl -- api',
  apiBootstrap: 'npm run etl -- api --bootstrap',
  migrate: 'npm run etl -- migrate',
  schedules: 'npm run etl -- schedules',
  healthApi: 'npm run etl -- healthcheck api',
  healthWorker: 'npm run etl -- healthcheck worker',
  composeCheck: 'make compose-check',
  simulator: 'npm run simulator -- --coins 5000 --port 4010',
  benchEtl: 'npm run bench:etl -- --quick',
  benchApi: 'npm run bench:api -- --quick',
} as const;

export type ReadmeCommand = keyof typeof README_COMMANDS;

export interface ReadmeRun {
  until?: RegExp;
  env?: NodeJS.ProcessEnv;
}

const README_PATH = join(__dirname, '..', '..', 'README.md');

/** The commands the README no longer contains word for word (line breaks in its prose count as spaces). */
export async function checkVerbatim(): Promise<ReadmeCommand[]> {
  const readme = (await readFile(README_PATH, 'utf8')).replace(/\s*\n\s*/g, ' ');
  return (Object.keys(README_COMMANDS) as ReadmeCommand[]).filter((name) => !readme.includes(README_COMMANDS[name]));
}

export interface Place {
  dataDir: string;
  postgresPort: number;
}

export function localize(command: string, place: Place): string {
  return command.replaceAll('.data/', `${place.dataDir}/`).replaceAll('127.0.0.1:54329', `127.0.0.1:${place.postgresPort}`);
}

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one README command in `sh`, the runbook's database URL exported first. Every command and its
 * output is appended to `transcript`, which the smoke test keeps when a step fails.
 */
export function readmeShell(options: { place: Place; env: NodeJS.ProcessEnv; cwd: string; transcript: string; timeoutMs: number }) {
  /**
   * `until`: a server that runs until stopped; it is stopped (Ctrl-C) once its output matches, and counts as exit 0
   * once every process of it has exited (the caller checks its log for a clean stop).
   * `env`: settings of this command only, e.g. a port of its own beside the running system.
   */
  return async (name: ReadmeCommand, extra: ReadmeRun = {}): Promise<ShellResult> => {
    const command = README_COMMANDS[name];
    // The runbook's export first, for psql and for the commands that read DATABASE_URL themselves.
    const lines = [README_COMMANDS.databaseUrl, command].map((line) => localize(line, options.place));
    const result = await runShell(lines.join('\n'), { ...options, env: { ...options.env, ...extra.env }, until: extra.until });
    await appendFile(options.transcript, `$ ${lines.join('\n$ ')}\n${result.stdout}${result.stderr}[exit ${result.code}]\n\n`);
    return result;
  };
}

/** How long a server of the README may take to stop after Ctrl-C (the worker drains its activities first). */
const STOP_AFTER_CTRL_C_MS = 60_000;

function runShell(
  script: string,
  { env, cwd, timeoutMs, until }: { env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number; until?: RegExp | undefined },
): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout ends npm and what it started, not only the shell.
    const child = spawn('sh', ['-c', script], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    const kill = (why: string) => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`${why}: ${script.split('\n').pop()}`));
    };
    let timer = setTimeout(() => kill(`command did not finish within ${timeoutMs / 1000}s`), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (until && !stopped && until.test(stdout) && child.pid) {
        stopped = true;
        // Ctrl-C: the shell and npm die of it at once; the program itself shuts down and exits.
        process.kill(-child.pid, 'SIGINT');
        clearTimeout(timer);
        timer = setTimeout(() => kill(`still running ${STOP_AFTER_CTRL_C_MS / 1000}s after Ctrl-C`), STOP_AFTER_CTRL_C_MS);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    // 'close', not 'exit': it waits for every process holding the output, i.e. the program as well as the shell.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code: stopped ? 0 : code, stdout, stderr });
    });
  });
}

/**
 * The rows of psql's default (aligned) output, by column name: the README's queries are run as written, so
 * their output is read as a person would read it.
 */
export function psqlRows(output: string): Record<string, string>[] {
  const lines = output.split('\n');
  const rule = lines.findIndex((line) => /^-+(\+-+)*$/.test(line.trim()));
  if (rule < 1) throw new Error(`not a psql table: ${output.slice(0, 200)}`);
  // An empty last cell (a NULL) leaves the line ending in " |".
  const split = (line: string) => line.split(/ \|(?: |$)/).map((cell) => cell.trim());
  const columns = split(lines[rule - 1] as string);
  const rows: Record<string, string>[] = [];
  for (const line of lines.slice(rule + 1)) {
    if (/^\(\d+ rows?\)$/.test(line.trim()) || line.trim() === '') break;
    const cells = split(line);
    rows.push(Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? ''])));
  }
  return rows;
}

import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { announceChildProcess } from '../../src/bin/process-group';

const run = promisify(execFile);
const REQUIREMENTS = join(__dirname, 'requirements.txt');
/** st runs here: schemathesis.toml's cache directory is relative to it. */
const REPOSITORY = resolve(__dirname, '..', '..');
export const SCHEMATHESIS_CONFIG = join(__dirname, 'schemathesis.toml');

/**
 * Schemathesis's `st`, from a virtualenv in the cache outside the repository with every package pinned by
 * requirements.txt. Built once (about 20 s from PyPI), and again whenever requirements.txt changes: the stamp,
 * written last, is a hash of that file, so an interrupted install is never taken for a complete one.
 */
export async function ensureSchemathesis(cacheDir: string, say: (line: string) => void): Promise<string> {
  const venv = join(cacheDir, 'schemathesis-venv');
  const st = join(venv, 'bin', 'st');
  const stampFile = join(venv, 'kasparro-stamp');
  const stamp = createHash('sha256').update(await readFile(REQUIREMENTS)).digest('hex').slice(0, 16);
  if (existsSync(st) && (await readFile(stampFile, 'utf8').catch(() => '')).trim() === stamp) return st;

  const version = await run('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).catch(() => undefined);
  const [major = 0, minor = 0] = (version?.stdout.trim() ?? '').split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 11)) {
    throw new Error(`schemathesis needs python3 3.11 or later with venv on PATH (found ${version?.stdout.trim() || 'none'})`);
  }
  say(`installing schemathesis into ${venv} (once per requirements.txt)`);
  await rm(venv, { recursive: true, force: true });
  await run('python3', ['-m', 'venv', venv]).catch((err: { stderr?: string }) => {
    throw new Error(`python3 -m venv failed (Debian: apt-get install python3-venv): ${err.stderr ?? String(err)}`);
  });
  await run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS], {
    maxBuffer: 16 * 1024 * 1024,
  });
  await writeFile(stampFile, `${stamp}\n`);
  return st;
}

export interface FuzzTarget {
  /** The API's document (with links added: document.ts), as a file. */
  document: string;
  apiUrl: string;
  apiKey: string;
  seed: number;
  reportDir: string;
  /** Added to `st run` as they are. */
  extraArgs: string[];
}

/** Where the JUnit report (for CI) and the NDJSON event stream (every request and response) are written. */
export function reportPaths(dir: string): { junit: string; ndjson: string } {
  return { junit: join(dir, 'junit.xml'), ndjson: join(dir, 'schemathesis.ndjson') };
}

function schemathesisArgs(target: FuzzTarget): string[] {
  return [
    '--config-file', SCHEMATHESIS_CONFIG,
    'run', target.document,
    '--url', target.apiUrl,
    '--seed', String(target.seed),
    '--report', 'junit,ndjson',
    '--report-junit-path', reportPaths(target.reportDir).junit,
    '--report-ndjson-path', reportPaths(target.reportDir).ndjson,
    ...target.extraArgs,
  ];
}

/** The same run as a shell command line, for `--serve`. */
export function schemathesisCommand(st: string, target: FuzzTarget): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  return `cd ${quote(REPOSITORY)} && ${[`KASPARRO_FUZZ_API_KEY=${target.apiKey}`, st, ...schemathesisArgs(target)].map(quote).join(' ')}`;
}

/**
 * `st run` with schemathesis.toml, its output on our stdout. Resolves to its exit code: 0 only when every check
 * passed on every request. Killed (and reported as a failure) when it outlives `timeoutMs` or `signal` aborts.
 */
export function runSchemathesis(st: string, options: FuzzTarget & { timeoutMs: number; signal: AbortSignal }): Promise<number> {
  const child = spawn(st, schemathesisArgs(options), {
    cwd: REPOSITORY,
    stdio: ['ignore', 'inherit', 'inherit'],
    // Read by schemathesis.toml ([auth.openapi.ApiKey]); never on a command line.
    env: { ...process.env, KASPARRO_FUZZ_API_KEY: options.apiKey },
  });
  announceChildProcess('schemathesis', child.pid, 'SIGTERM');
  return new Promise((resolve, reject) => {
    let stopped = false;
    const stop = (why: string) => {
      stopped = true;
      console.error(`fuzz-api: ${why}: stopping schemathesis`);
      child.kill('SIGTERM');
    };
    const timer = setTimeout(() => stop(`schemathesis ran past ${options.timeoutMs / 1000} s`), options.timeoutMs);
    const onAbort = () => stop('interrupted');
    options.signal.addEventListener('abort', onAbort, { once: true });
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      // Killed by a signal (code null), or stopped by us whatever it answered: a failure.
      resolve(code === null || (stopped && code === 0) ? 1 : code);
    });
  });
}

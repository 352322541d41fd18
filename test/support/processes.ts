import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
const CLI = resolve(REPO_ROOT, 'src', 'bin', 'cli.ts');

/** Child processes of one test file, stopped together in its afterAll. */
export class Processes {
  private readonly children: ChildProcess[] = [];

  /** Starts `command`; its stderr goes to the test's output unless `stdio` says otherwise. */
  start(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], ...options });
    // A command that cannot be spawned (ENOENT) emits 'error' and never 'exit'; exitOf() answers 127 for it.
    child.on('error', (err) => console.error(`${command}: ${err.message}`));
    this.children.push(child);
    return child;
  }

  /** `etl <args>` (src/bin/cli.ts), as the image runs it. */
  cli(args: readonly string[], env: NodeJS.ProcessEnv, options: SpawnOptions = {}): ChildProcess {
    return this.start(process.execPath, ['--import', 'tsx', CLI, ...args], { ...options, env });
  }

  /** `etl <args>` run to its end, with what it printed. */
  async cliOutput(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = this.cli(args, env, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stdout, stderr };
  }

  async exitCode(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<number | null> {
    return exitOf(this.start(command, args, options));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.children.map((child) => stopChild(child)));
  }
}

/** The child's exit code; 127 (a shell's "command not found") when it could not be spawned at all. */
export async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.pid === undefined) return 127;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

/** SIGTERM, and SIGKILL if the child is still running after `graceMs`; resolves once it has exited. */
export async function stopChild(child: ChildProcess, graceMs = 20_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Processes whose command line names `dir` (the dev server's database file, PostgreSQL's data directory), other
 * than this one and jest processes running start-leftovers.
 */
export async function processesUsing(dir: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const using = await Promise.all(
    pids.map(async (pid) => {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      return cmdline.includes(dir) && !cmdline.includes('start-leftovers') ? Number(pid) : undefined;
    }),
  );
  return using.filter((pid): pid is number => pid !== undefined && pid !== process.pid);
}

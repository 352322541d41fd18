import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');
const CLI = resolve(REPO_ROOT, 'src', 'bin', 'cli.ts');

/** Child processes of one test file, stopped together in its afterAll. */
export class Processes {
  private readonly children: ChildProcess[] = [];

  /** Starts `command`; its stderr goes to the test's output unless `stdio` says otherwise. */
  start(command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'inherit'], ...options });
    this.children.push(child);
    return child;
  }

  /** `etl <args>` (src/bin/cli.ts), as the image runs it. */
  cli(args: readonly string[], env: NodeJS.ProcessEnv): ChildProcess {
    return this.start(process.execPath, ['--import', 'tsx', CLI, ...args], { env });
  }

  async exitCode(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<number | null> {
    return exitOf(this.start(command, args, options));
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.children.map(stop));
  }
}

export async function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

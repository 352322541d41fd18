import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { open, readFile, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { GiveUp, waitFor } from './http';

const run = promisify(execFile);

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One line of the system's pino output (LOG_PRETTY=false). */
export type LogEntry = Record<string, unknown> & { msg?: string; level?: number };

interface Proc {
  pid: number;
  ppid: number;
  args: string;
}

/**
 * `npm start -- --demo` as a child process, in a process group of its own (so a Ctrl-C aimed at the smoke test
 * is handled by the smoke test), its output appended to `logFile`.
 */
export class System {
  private child: ChildProcess | undefined;
  private exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  private exit: Exit | undefined;
  /** Where this start's output begins in the log. */
  private logStart = 0;

  constructor(
    private readonly options: { command: string; cwd: string; env: NodeJS.ProcessEnv; dataDir: string; logFile: string },
  ) {}

  get running(): boolean {
    return this.child !== undefined && this.exit === undefined;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error('the system is already running');
    const log = await open(this.options.logFile, 'a');
    this.logStart = (await log.stat()).size;
    // `exec`: the shell becomes npm, whose pid is the group's.
    const child = spawn('sh', ['-c', `exec ${this.options.command}`], {
      cwd: this.options.cwd,
      env: this.options.env,
      stdio: ['ignore', log.fd, log.fd],
      detached: true,
    });
    await log.close();
    this.child = child;
    this.exit = undefined;
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
  }

  /** Resolves when this start has logged that everything is up; fails as soon as the process exits instead. */
  async waitUp(timeoutMs: number): Promise<void> {
    await waitFor(
      'the start-up log line "kasparro-etl is up"',
      async () => {
        if (this.exit) throw new ExitedError(`npm start exited (${describeExit(this.exit)}): ${await this.lastError()}`);
        return (await this.log()).some((e) => e.msg?.startsWith('kasparro-etl is up')) ? true : undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  /**
   * Ctrl-C as a terminal sends it: SIGINT to the whole process group of `npm start` (npm, its shell, tsx and
   * start.ts each see it; npm exits on it at once, as it does in a terminal, while start.ts, in a process group
   * of its own, stops the system in order). Resolves once npm has exited, the system has logged "stopped" and no
   * process of this start is left.
   */
  async interrupt(timeoutMs: number): Promise<Exit & { ms: number }> {
    const group = this.child?.pid;
    if (!group || !this.running) throw new Error('the system is not running');
    const began = Date.now();
    process.kill(-group, 'SIGINT');
    await waitFor(
      'npm start to exit, the system to log "stopped" and every process of it to end',
      async () => {
        if (!this.exit || !(await this.log()).some((e) => e.msg === 'stopped')) return undefined;
        return (await this.leftovers()).length === 0 ? true : undefined;
      },
      { timeoutMs, intervalMs: 100 },
    ).catch(async (err: unknown) => {
      const left = await this.leftovers();
      throw new Error(`${err instanceof Error ? err.message : String(err)}; still running: ${left.map((p) => `${p.pid} ${p.args.slice(0, 80)}`).join('; ') || 'nothing'}`);
    });
    return { ...(this.exit as Exit), ms: Date.now() - began };
  }

  /** The last resort: SIGKILL to the group, then to whatever it left behind. Returns what had to be killed. */
  async kill(): Promise<string[]> {
    const killed: string[] = [];
    const group = this.child?.pid;
    if (group && this.running) {
      signal(-group, 'SIGKILL');
      killed.push(`npm start (group ${group})`);
      await Promise.race([this.exited, sleep(5_000)]);
    }
    for (const proc of await this.leftovers()) {
      signal(proc.pid, 'SIGKILL');
      killed.push(`${proc.pid} ${proc.args.slice(0, 80)}`);
    }
    return killed;
  }

  /**
   * Processes of this start still running: those with the data directory on their command line (PostgreSQL,
   * the Temporal dev server) or in their environment (npm, tsx, start.ts). After a clean stop there are none.
   */
  async leftovers(): Promise<Proc[]> {
    const marker = `DATA_DIR=${this.options.dataDir}\0`;
    const ours = async (p: Proc) =>
      p.args.includes(this.options.dataDir) || (await readFile(`/proc/${p.pid}/environ`, 'utf8').catch(() => '')).includes(marker);
    const all = (await processes()).filter((p) => p.pid !== process.pid);
    const flags = await Promise.all(all.map(ours));
    return all.filter((_, i) => flags[i]);
  }

  /** This start's log entries. */
  async log(): Promise<LogEntry[]> {
    return (await this.logText()).split('\n').flatMap((line) => {
      if (!line.startsWith('{')) return [];
      try {
        return [JSON.parse(line) as LogEntry];
      } catch {
        return [];
      }
    });
  }

  /** The last error or warning this start logged, for a failure message. */
  async lastError(): Promise<string> {
    const lines = (await this.logText()).split('\n').filter((l) => l.trim() !== '');
    const bad = lines.filter((l) => /"level":(40|50|60)|error/i.test(l));
    return (bad.at(-1) ?? lines.at(-1) ?? '(no output)').slice(0, 300);
  }

  private async logText(): Promise<string> {
    if ((await stat(this.options.logFile).catch(() => undefined)) === undefined) return '';
    return (await readFile(this.options.logFile)).subarray(this.logStart).toString('utf8');
  }
}

export class ExitedError extends GiveUp {}

export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}

async function processes(): Promise<Proc[]> {
  const { stdout } = await run('ps', ['-A', '-ww', '-o', 'pid=,ppid=,args='], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split('\n').flatMap((line) => {
    const match = /^\s*(\d+)\s+(\d+)\s+(.*)$/.exec(line);
    return match ? [{ pid: Number(match[1]), ppid: Number(match[2]), args: match[3] as string }] : [];
  });
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

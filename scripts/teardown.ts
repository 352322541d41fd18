import type { Logger } from '../src/logger';

/**
 * What has started, stopped in reverse order (src/bin/start.ts does the same). Once `stopping` aborts (Ctrl-C),
 * adding throws, so start-up goes no further.
 */
export class Teardown {
  private readonly stops: [name: string, stop: () => Promise<void>][] = [];

  constructor(private readonly stopping: AbortSignal) {}

  add(name: string, stop: () => Promise<void>): void {
    this.stops.push([name, stop]);
    this.stopping.throwIfAborted();
  }

  async run(log: Logger): Promise<void> {
    for (const [name, stop] of this.stops.reverse()) {
      log.info(`stopping ${name}`);
      await stop().catch((err: unknown) => log.warn({ err }, `while stopping ${name}`));
    }
    this.stops.length = 0;
  }
}

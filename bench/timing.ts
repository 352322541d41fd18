import { performance } from 'node:perf_hooks';

/** Seconds spent per named phase, accumulated over many calls. */
export class PhaseTimes {
  private readonly totals = new Map<string, number>();

  async time<T>(phase: string, body: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await body();
    } finally {
      this.add(phase, (performance.now() - start) / 1000);
    }
  }

  timeSync<T>(phase: string, body: () => T): T {
    const start = performance.now();
    try {
      return body();
    } finally {
      this.add(phase, (performance.now() - start) / 1000);
    }
  }

  add(phase: string, seconds: number): void {
    this.totals.set(phase, (this.totals.get(phase) ?? 0) + seconds);
  }

  get(phase: string): number {
    return this.totals.get(phase) ?? 0;
  }

  /** "storeRaw 1.20s, normalize 0.40s" in the order phases were first timed. */
  describe(): string {
    return [...this.totals].map(([phase, s]) => `${phase} ${s.toFixed(2)}s`).join(', ');
  }
}

export function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

export { performance };

const MB = 1024 * 1024;

export interface RssReport {
  beforeMb: number;
  peakMb: number;
  afterMb: number;
  /** Peaks over the first and the last quarter of the sampled time: equal when memory stays flat. */
  firstQuarterPeakMb: number;
  lastQuarterPeakMb: number;
}

/** Samples this process's resident set size while `body` runs. */
export async function sampleRss<T>(body: () => Promise<T>, everyMs = 100): Promise<{ result: T; rss: RssReport }> {
  const before = process.memoryUsage.rss();
  const samples: { at: number; rss: number }[] = [];
  const sample = (): void => void samples.push({ at: performance.now(), rss: process.memoryUsage.rss() });
  const timer = setInterval(sample, everyMs);
  sample();
  let result: T;
  try {
    result = await body();
  } finally {
    clearInterval(timer);
  }
  sample();
  const first = samples[0]?.at ?? 0;
  const span = (samples.at(-1)?.at ?? first) - first;
  const peakWhere = (keep: (at: number) => boolean): number =>
    Math.max(0, ...samples.filter((s) => keep(s.at - first)).map((s) => s.rss));
  return {
    result,
    rss: {
      beforeMb: before / MB,
      peakMb: Math.max(before, ...samples.map((s) => s.rss)) / MB,
      afterMb: process.memoryUsage.rss() / MB,
      firstQuarterPeakMb: peakWhere((t) => t <= span / 4) / MB,
      lastQuarterPeakMb: peakWhere((t) => t >= (3 * span) / 4) / MB,
    },
  };
}

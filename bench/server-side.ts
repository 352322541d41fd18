/**
 * What the API saw of one load, from its own /metrics scraped before and after: how many of a route's requests
 * took over 25 ms inside the process (prom-client's request histogram), the longest event-loop stall (its lag
 * histogram is reset at every scrape) and the time spent in major GC. A tail the client sees and these do not
 * show was queueing outside the process: in the kernel, or in the load generator itself.
 */
export interface ServerSide {
  /** Share of the route's requests over 25 ms from arrival to answer, in the API. */
  over25: number;
  maxStallMs: number;
  majorGcMs: number;
}

export async function serverSide<T>(metricsUrl: string, route: string, load: () => Promise<T>): Promise<T & ServerSide> {
  const before = parse(await scrape(metricsUrl));
  const result = await load();
  const after = parse(await scrape(metricsUrl));
  const delta = (name: string, match: Record<string, string>) => sum(after, name, match) - sum(before, name, match);
  const count = delta('kasparro_http_request_duration_seconds_count', { route });
  const fast = delta('kasparro_http_request_duration_seconds_bucket', { route, le: '0.025' });
  return {
    ...result,
    over25: count > 0 ? (count - fast) / count : 0,
    maxStallMs: sum(after, 'nodejs_eventloop_lag_max_seconds', {}) * 1000,
    majorGcMs: delta('nodejs_gc_duration_seconds_sum', { kind: 'major' }) * 1000,
  };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[k as string] = v as string;
    samples.push({ name: m[1] as string, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum over every series of `name` whose labels include `match`. */
function sum(samples: readonly Sample[], name: string, match: Record<string, string>): number {
  return samples
    .filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

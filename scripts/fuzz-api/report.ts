import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** The part of Schemathesis's NDJSON event stream (4.x) read here: each finished scenario's requests. */
interface ScenarioFinished {
  ScenarioFinished?: {
    phase: string;
    recorder: { interactions?: Record<string, { response?: { status_code: number } | null }> };
  };
}

/**
 * One line on what the run sent and got back, from the NDJSON report: requests per phase and per status code,
 * and how many got no response at all (a timeout or a dropped connection).
 */
export async function summarizeRequests(ndjson: string): Promise<string> {
  if (!existsSync(ndjson)) return `no report at ${ndjson}`;
  const phases = new Map<string, number>();
  const statuses = new Map<string, number>();
  let total = 0;
  for await (const line of createInterface({ input: createReadStream(ndjson), crlfDelay: Infinity })) {
    if (!line.startsWith('{"ScenarioFinished"')) continue;
    const event = (JSON.parse(line) as ScenarioFinished).ScenarioFinished;
    for (const interaction of Object.values(event?.recorder.interactions ?? {})) {
      total += 1;
      add(phases, event?.phase ?? '?');
      add(statuses, String(interaction.response?.status_code ?? 'no response'));
    }
  }
  const list = (counts: Map<string, number>) =>
    [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `${key} ×${n}`).join(', ');
  const serverErrors = [...statuses].filter(([status]) => status.startsWith('5')).reduce((sum, [, n]) => sum + n, 0);
  return `${total} requests (${list(phases)}); responses: ${list(statuses)}; 5xx: ${serverErrors}`;
}

function add(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

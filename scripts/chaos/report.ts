import type { RunCounts, ScenarioOutcome, SourceOutcome } from './scenario';

/** A scenario passes when every run's counts and every table equal the clean run's, and nothing else went wrong. */
export function passed(outcome: ScenarioOutcome): boolean {
  return outcome.rowsEqual && outcome.problems.length === 0 && outcome.sources.every((s) => s.countsRight);
}

const seconds = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);

/**
 * The chaos table as Markdown, one row per failure and source: where the failure hit (batches committed of the
 * clean run's total), the longest wait between two of its batches from then on, /health as seen, and the verdicts.
 */
export function formatTable(outcomes: ScenarioOutcome[]): string {
  const lines = [
    '| failure | source | point (batch) | longest stall | /health seen | run counts | rows equal |',
    '| --- | --- | ---: | ---: | --- | --- | --- |',
  ];
  for (const outcome of outcomes) {
    for (const source of outcome.sources) {
      const counts = source.counts ? `${source.countsRight ? 'right' : 'WRONG'} (${source.counts.status}, ${source.counts.fetched} fetched, ${source.counts.invalid} invalid${differences(source)})` : 'no run';
      lines.push(`| ${outcome.failure} | ${source.source} | ${source.point} | ${seconds(source.stallMs)} | ${outcome.health} | ${counts} | ${outcome.rowsEqual ? 'yes' : 'NO'} |`);
    }
  }
  const problems = outcomes.flatMap((o) => o.problems.map((p) => `- ${o.failure}: ${p}`));
  return [...lines, ...(problems.length ? ['', 'Problems:', ...problems] : [])].join('\n');
}

/** What a wrong run's counts say beside the clean run's: `; inserted 1370, clean 1375`. */
function differences(source: SourceOutcome): string {
  if (source.countsRight || !source.counts || !source.clean) return '';
  const { counts, clean } = source;
  const fields = (Object.keys(clean) as (keyof RunCounts)[]).filter((k) => counts[k] !== clean[k]);
  return fields.map((k) => `; ${k} ${counts[k]}, clean ${clean[k]}`).join('');
}

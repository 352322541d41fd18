import type { BoundResult } from './bound';
import type { ContractCost } from './contract-cost';
import type { EndToEndResult } from './end-to-end';
import type { RssReport } from './timing';

export const TARGET_RATIO = 0.3;
/** Watching the data contract may cost at most this share of the load's time (issue: 5% at 100k records). */
export const CONTRACT_COST_TARGET = 0.05;

export interface CaseResult {
  source: string;
  /** "10k coins", "1M rows". */
  size: string;
  e2e: EndToEndResult;
  bound: BoundResult;
  contract: ContractCost;
  rss?: RssReport;
}

/** The contract watch's time as a share of the end-to-end run's time in loadBatch. */
export const contractShare = (c: CaseResult): number => {
  const load = c.e2e.phases.get('loadBatch');
  return load > 0 ? c.contract.seconds / load : 0;
};

export const rate = (records: number, s: number): number => (s > 0 ? records / s : 0);
export const ratio = (c: CaseResult): number => rate(c.e2e.counts.fetched, c.e2e.seconds) / rate(c.bound.records, c.bound.seconds);

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** The lines printed as each case finishes: the figures and where the time went. */
export function describeCase(c: CaseResult): string[] {
  const { e2e, bound } = c;
  const activityTime = ['startRun', 'fetchBatch', 'loadBatch', 'endRun'].reduce((sum, p) => sum + e2e.phases.get(p), 0);
  const lines = [
    `${c.source} ${c.size}: end to end ${int(e2e.counts.fetched)} records in ${e2e.seconds.toFixed(2)}s = ${int(rate(e2e.counts.fetched, e2e.seconds))} rec/s ` +
      `(${e2e.batches} batches; inserted ${int(e2e.counts.inserted)}, unchanged ${int(e2e.counts.unchanged)}, invalid ${int(e2e.counts.invalid)})`,
    `  e2e time: ${e2e.phases.describe()} (fetchPage runs inside fetchBatch); outside activities ` +
      `(Temporal round trips, workflow tasks) ${(e2e.seconds - activityTime).toFixed(2)}s; ` +
      `node CPU ${e2e.cpuSeconds.toFixed(2)}s = ${Math.round((100 * e2e.cpuSeconds) / e2e.seconds)}% of one core`,
    `  bound: ${int(bound.records)} records in ${bound.seconds.toFixed(2)}s = ${int(rate(bound.records, bound.seconds))} rec/s ` +
      `(${bound.phases.describe()}); ratio e2e/bound ${(100 * ratio(c)).toFixed(0)}%`,
  ];
  lines.push(
    `  contract watch: ${c.contract.seconds.toFixed(2)}s over ${c.contract.batches} batches (${int(c.contract.records)} records) = ` +
      `${(100 * contractShare(c)).toFixed(1)}% of loadBatch's ${e2e.phases.get('loadBatch').toFixed(2)}s` +
      (contractShare(c) <= CONTRACT_COST_TARGET ? '' : ` (above the ${CONTRACT_COST_TARGET * 100}% target)`),
  );
  if (bound.batchSeconds.length >= 20) lines.push(`  ${describeGrowth(bound.batchSeconds)}`);
  if (bound.invalid > 0) lines.push(`  bound: ${bound.invalid} records failed normalization (not quarantined by the bound)`);
  if (c.rss) lines.push(`  ${describeRss(c.rss)}`);
  return lines;
}

/** Mean batch time over the first and the last tenth of the run: equal when tables growing costs nothing. */
function describeGrowth(batchSeconds: readonly number[]): string {
  const tenth = Math.max(1, Math.floor(batchSeconds.length / 10));
  const meanMs = (xs: readonly number[]): string => `${((1000 * xs.reduce((a, b) => a + b, 0)) / xs.length).toFixed(0)} ms`;
  return `bound batch time: first tenth ${meanMs(batchSeconds.slice(0, tenth))}, last tenth ${meanMs(batchSeconds.slice(-tenth))} per batch`;
}

export function describeRss(rss: RssReport): string {
  const mb = (n: number): string => `${n.toFixed(0)} MB`;
  return (
    `RSS during the end-to-end run: before ${mb(rss.beforeMb)}, peak ${mb(rss.peakMb)}, after ${mb(rss.afterMb)} ` +
    `(peak in the first quarter of the run ${mb(rss.firstQuarterPeakMb)}, in the last quarter ${mb(rss.lastQuarterPeakMb)})`
  );
}

export function markdownTable(results: readonly CaseResult[]): string {
  const rows = results.map((c) => [
    c.source,
    c.size,
    int(c.e2e.counts.fetched),
    c.e2e.seconds.toFixed(2),
    int(rate(c.e2e.counts.fetched, c.e2e.seconds)),
    int(rate(c.bound.records, c.bound.seconds)),
    `${(100 * ratio(c)).toFixed(0)}%${ratio(c) >= TARGET_RATIO ? '' : ' (below target)'}`,
    `${(100 * contractShare(c)).toFixed(1)}%${contractShare(c) <= CONTRACT_COST_TARGET ? '' : ' (above target)'}`,
  ]);
  const header = ['source', 'coins/rows', 'records', 'e2e seconds', 'e2e rec/s', 'bound rec/s', 'ratio e2e/bound', 'contract / load'];
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

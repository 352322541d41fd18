/**
 * `npm run bench:identity`: precision and recall of identity merges, and what went to review, on
 *  - the labelled pairs of data/identity/eval-pairs.tsv (real-world naming patterns; its README says where each
 *    group comes from): b is weighed against an asset holding a alone;
 *  - the simulator's market (3,000 coins, seed 42, one tick), through the sources' own normalize: every
 *    CoinPaprika listing against every CoinGecko listing under its symbol key, the truth being the coin
 *    behind both, as the pipeline meets them (the best candidate wins).
 * Targets: no wrong merge (precision 1.0), recall at least 0.95, every pair that is neither merged nor clearly
 * different (confidence >= REVIEW_THRESHOLD) listed for review. Pure: no database, no network.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config';
import { listingOf } from '../src/db/assets';
import type { Observation } from '../src/identity/evidence';
import { symbolKey } from '../src/identity/keys';
import { decide, MATCH_THRESHOLD, REVIEW_THRESHOLD, type Candidate, type Decision, type Listing } from '../src/identity/match';
import type { NormalizedQuote } from '../src/schemas/quote';
import { createMarket } from '../src/simulator/market';
import { createSources, sourceNamed } from '../src/sources';

const EVAL_PAIRS = join(__dirname, '..', 'data', 'identity', 'eval-pairs.tsv');
const T0 = Date.UTC(2026, 11, 3, 12);

type Outcome = 'merged' | 'review' | 'apart';
interface Judged {
  group: string;
  same: boolean;
  outcome: Outcome;
  /** The pair's own confidence when it was reviewed or merged. */
  confidence?: number;
  describe: string;
}

function listing(cells: string[], minutes: number): Listing {
  const [source, id, symbol, name, rank, price, cap] = cells as [string, string, string, string, string, string, string];
  const observation: Observation | undefined = price
    ? { priceUsd: Number(price), marketCapUsd: cap ? Number(cap) : null, observedAt: new Date(T0 + minutes * 60_000) }
    : undefined;
  return { source, sourceAssetId: id, symbol, name, rank: rank ? Number(rank) : null, observation };
}

function outcomeFor(decision: Decision, assetId: string): { outcome: Outcome; confidence?: number } {
  if (decision.kind === 'matched') return decision.assetId === assetId ? { outcome: 'merged', confidence: decision.confidence } : { outcome: 'apart' };
  return decision.review?.assetId === assetId ? { outcome: 'review', confidence: decision.review.confidence } : { outcome: 'apart' };
}

function judgeEvalPairs(): Judged[] {
  const lines = readFileSync(EVAL_PAIRS, 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  return lines.slice(1).map((line) => {
    const cells = line.split('\t');
    const [group, label] = cells as [string, string];
    const minutes = Number(cells[16]);
    const a = listing(cells.slice(2, 9), 0);
    const b = listing(cells.slice(9, 16), minutes);
    const judged = outcomeFor(decide(b, [{ assetId: 'a', listings: [a] }]), 'a');
    return { group, same: label === 'same', ...judged, describe: `${a.source} ${a.symbol} "${a.name}" / ${b.source} ${b.symbol} "${b.name}"` };
  });
}

function judgeSimulator(coins = 3_000, seed = 42): Judged[] {
  const market = createMarket({ coins, seed });
  market.tick(30);
  const view = market.view();
  const sources = createSources(loadConfig().sources);
  const normalized = (name: string, payloads: Iterable<{ id: string }>): NormalizedQuote[] => {
    const source = sourceNamed(sources, name);
    const out: NormalizedQuote[] = [];
    for (const payload of payloads) {
      const outcome = source.normalize({ id: payload.id, payload, locator: '' });
      if (outcome.ok) out.push(outcome.quote);
    }
    return out;
  };
  const geckoPayloads: { id: string }[] = [];
  for (let page = 1; ; page++) {
    const rows = view.geckoPage(page, 250);
    if (rows.length === 0) break;
    geckoPayloads.push(...rows);
  }
  const gecko = normalized('coingecko', geckoPayloads).map((q) => listingOf('coingecko', q));
  const paprika = normalized('coinpaprika', view.paprikaTickers()).map((q) => listingOf('coinpaprika', q));
  // The truth: which CoinGecko id each CoinPaprika id is.
  const truth = new Map<string, string>();
  for (let i = 0; i < coins; i++) {
    const coin = market.coin(i);
    truth.set(coin.paprikaId, coin.geckoId);
  }
  const byKey = new Map<string, Candidate[]>();
  for (const g of gecko) byKey.set(symbolKey(g.symbol), [...(byKey.get(symbolKey(g.symbol)) ?? []), { assetId: g.sourceAssetId, listings: [g] }]);
  const judged: Judged[] = [];
  for (const p of paprika) {
    const candidates = byKey.get(symbolKey(p.symbol)) ?? [];
    const decision = decide(p, candidates);
    for (const c of candidates) {
      const g = c.listings[0] as Listing;
      const same = truth.get(p.sourceAssetId) === g.sourceAssetId;
      const group = candidates.length > 1 ? 'simulator: shared symbols' : 'simulator: one candidate';
      judged.push({ group, same, ...outcomeFor(decision, c.assetId), describe: `coingecko ${g.symbol} "${g.name}" / coinpaprika ${p.symbol} "${p.name}"` });
    }
  }
  return judged;
}

function report(judged: Judged[]): boolean {
  const groups = [...new Set(judged.map((j) => j.group))];
  const row = (name: string, js: Judged[]) => {
    const same = js.filter((j) => j.same);
    const diff = js.filter((j) => !j.same);
    const count = (xs: Judged[], o: Outcome) => xs.filter((j) => j.outcome === o).length;
    return `| ${name} | ${js.length} | ${same.length} | ${count(same, 'merged')} | ${count(same, 'review')} | ${count(same, 'apart')} | ${diff.length} | ${count(diff, 'merged')} | ${count(diff, 'review')} |`;
  };
  console.log(`\nIdentity resolution: MATCH_THRESHOLD ${MATCH_THRESHOLD}, REVIEW_THRESHOLD ${REVIEW_THRESHOLD}\n`);
  console.log('| group | pairs | same | merged | reviewed | missed | different | merged (wrong) | reviewed |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const g of groups) console.log(row(g, judged.filter((j) => j.group === g)));
  console.log(row('**all**', judged));

  const merges = judged.filter((j) => j.outcome === 'merged');
  const wrong = merges.filter((j) => !j.same);
  const same = judged.filter((j) => j.same);
  const precision = merges.length === 0 ? 1 : (merges.length - wrong.length) / merges.length;
  const recall = same.length === 0 ? 1 : same.filter((j) => j.outcome === 'merged').length / same.length;
  const missed = same.filter((j) => j.outcome === 'apart');
  console.log(`\nprecision ${precision.toFixed(4)} (${wrong.length} wrong of ${merges.length} merges), recall ${recall.toFixed(4)}, ` +
    `${judged.filter((j) => j.outcome === 'review').length} pairs to review`);
  for (const j of wrong) console.log(`  wrong merge: ${j.group}: ${j.describe} (${j.confidence})`);
  for (const j of missed) console.log(`  missed, not even reviewed: ${j.group}: ${j.describe}`);
  const met = precision === 1 && recall >= 0.95 && missed.length === 0;
  console.log(`\ntargets (precision 1.0, recall >= 0.95, every same pair not merged is reviewed): ${met ? 'MET' : 'NOT MET'}`);
  return met;
}

const met = report([...judgeEvalPairs(), ...judgeSimulator()]);
process.exitCode = met ? 0 : 1;

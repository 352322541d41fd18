import { z } from 'zod';
import { toOutcome } from '../schemas/quote';
import { createHttpClient, expectArray } from './http';
import { knownOrNull, optionalNumber } from './numbers';
import { idOf } from './records';
import { duration, positiveInt, secret, url } from '../settings';
import { defineSource, type SourceRecord } from './types';

const Settings = z.object({
  COINPAPRIKA_BASE_URL: url().optional(),
  /** Sent as Authorization; a key means the pro host unless a base URL is given. */
  COINPAPRIKA_API_KEY: secret(),
  /** /v1/tickers is one array: this is how many of its records make one batch. */
  COINPAPRIKA_PAGE_SIZE: positiveInt(2000),
  COINPAPRIKA_RATE_LIMIT_PER_MIN: positiveInt(60),
  SCHEDULE_INTERVAL_COINPAPRIKA: duration('5m'),
});

/**
 * Real 2024+ payloads have no circulating_supply and send max_supply 0 for "no cap", so only what we map is
 * required. rank 0 means "unranked".
 */
const Ticker = z.object({
  id: z.string().min(1),
  name: z.string(),
  symbol: z.string(),
  rank: z.number().int().nonnegative(),
  last_updated: z.iso.datetime({ offset: true }),
  quotes: z.object({
    USD: z.object({
      price: z.number(),
      market_cap: optionalNumber(),
      volume_24h: optionalNumber(),
      percent_change_24h: optionalNumber(),
    }),
  }),
});

const OffsetCursor = z.object({ offset: z.number().int().min(0) });

export const coinpaprika = defineSource({
  name: 'coinpaprika',
  settings: Settings,
  create(settings) {
    const key = settings.COINPAPRIKA_API_KEY;
    const http = createHttpClient({
      name: 'coinpaprika',
      baseUrl:
        settings.COINPAPRIKA_BASE_URL ?? (key ? 'https://api-pro.coinpaprika.com' : 'https://api.coinpaprika.com'),
      headers: key ? { Authorization: key } : {},
      ratePerMinute: settings.COINPAPRIKA_RATE_LIMIT_PER_MIN,
    });
    const batch = settings.COINPAPRIKA_PAGE_SIZE;

    // /v1/tickers answers every coin at once. Batches of one run slice one snapshot instead of refetching it;
    // a new run (or a restarted worker) takes a fresh one.
    let snapshot: { runId: string; items: unknown[] } | undefined;
    async function tickers(runId: string, signal?: AbortSignal): Promise<unknown[]> {
      if (snapshot?.runId !== runId) {
        snapshot = undefined; // let the old snapshot be collected before the new one arrives
        snapshot = { runId, items: expectArray(await http.getJson('v1/tickers', undefined, signal), 'coinpaprika') };
      }
      return snapshot.items;
    }

    return {
      name: 'coinpaprika',
      recordSchema: Ticker,
      scheduleIntervalMs: settings.SCHEDULE_INTERVAL_COINPAPRIKA,
      async startCursor(saved) {
        return saved && !saved.complete ? saved.cursor : { offset: 0 };
      },
      async fetchPage(cursor, { runId, signal }) {
        const { offset } = OffsetCursor.parse(cursor);
        const items = await tickers(runId, signal);
        const end = Math.min(items.length, offset + batch);
        const records: SourceRecord[] = [];
        for (let i = offset; i < end; i++) {
          records.push({ id: idOf(items[i]) ?? `item-${i}`, payload: items[i], locator: `item ${i}` });
        }
        if (end >= items.length) snapshot = undefined;
        return { records, cursor: { offset: end }, done: end >= items.length };
      },
      normalize(record) {
        const ticker = Ticker.safeParse(record.payload);
        if (!ticker.success) return { ok: false, reason: z.prettifyError(ticker.error) };
        const t = ticker.data;
        const usd = t.quotes.USD;
        return toOutcome({
          sourceAssetId: t.id,
          symbol: t.symbol.toUpperCase(),
          name: t.name,
          priceUsd: usd.price,
          // CoinPaprika sends market_cap 0 for a coin whose supply it does not know: unknown, not worthless.
          marketCapUsd: knownOrNull(usd.market_cap) || null,
          volume24hUsd: knownOrNull(usd.volume_24h),
          percentChange24h: knownOrNull(usd.percent_change_24h),
          rank: t.rank > 0 ? t.rank : null,
          sourceUpdatedAt: new Date(t.last_updated),
        });
      },
    };
  },
});

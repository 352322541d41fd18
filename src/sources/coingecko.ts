import { z } from 'zod';
import { toOutcome } from '../schemas/quote';
import { createHttpClient, expectArray } from './http';
import { knownOrNull, optionalNumber } from './numbers';
import { idOf } from './records';
import { duration, positiveInt, secret, url } from '../settings';
import { defineSource, type SourceRecord } from './types';

const Settings = z.object({
  COINGECKO_BASE_URL: url().optional(),
  COINGECKO_API_KEY: secret(),
  /** A demo key goes to the public host in x-cg-demo-api-key, a pro key to the pro host in x-cg-pro-api-key. */
  COINGECKO_API_PLAN: z.enum(['demo', 'pro']).default('demo'),
  COINGECKO_PAGE_SIZE: positiveInt(250, 250),
  COINGECKO_RATE_LIMIT_PER_MIN: positiveInt(30),
  SCHEDULE_INTERVAL_COINGECKO: duration('5m'),
});

/** The fields we read from /coins/markets; the raw table keeps the rest. */
const MarketCoin = z.object({
  id: z.string().min(1),
  symbol: z.string(),
  name: z.string(),
  current_price: z.number(),
  market_cap: optionalNumber(),
  total_volume: optionalNumber(),
  price_change_percentage_24h: optionalNumber(),
  market_cap_rank: z.number().int().nullish(),
  last_updated: z.iso.datetime({ offset: true }),
});

const PageCursor = z.object({ page: z.number().int().min(1) });

/** Which header carries the key depends on the plan (and so does the host). */
const KEY_HEADER = { demo: 'x-cg-demo-api-key', pro: 'x-cg-pro-api-key' } as const;

export const coingecko = defineSource({
  name: 'coingecko',
  settings: Settings,
  create(settings) {
    const pro = settings.COINGECKO_API_PLAN === 'pro';
    const key = settings.COINGECKO_API_KEY;
    const http = createHttpClient({
      name: 'coingecko',
      baseUrl: settings.COINGECKO_BASE_URL ?? (pro ? 'https://pro-api.coingecko.com' : 'https://api.coingecko.com'),
      headers: key ? { [KEY_HEADER[settings.COINGECKO_API_PLAN]]: key } : {},
      ratePerMinute: settings.COINGECKO_RATE_LIMIT_PER_MIN,
    });
    const perPage = settings.COINGECKO_PAGE_SIZE;

    return {
      name: 'coingecko',
      recordSchema: MarketCoin,
      scheduleIntervalMs: settings.SCHEDULE_INTERVAL_COINGECKO,
      // The listing is a live ranking, so a finished run starts again at page 1; an unfinished one resumes.
      async startCursor(saved) {
        return saved && !saved.complete ? saved.cursor : { page: 1 };
      },
      async fetchPage(cursor, { signal }) {
        const { page } = PageCursor.parse(cursor);
        const where = `coingecko page ${page}`;
        const body = expectArray(
          await http.getJson(
            'api/v3/coins/markets',
            { vs_currency: 'usd', order: 'market_cap_desc', per_page: perPage, page },
            signal,
          ),
          where,
        );
        const records = body.map((payload, i): SourceRecord => ({
          id: idOf(payload) ?? `page-${page}-item-${i}`,
          payload,
          locator: `page ${page} item ${i}`,
        }));
        return { records, cursor: { page: page + 1 }, done: body.length < perPage };
      },
      normalize(record) {
        const coin = MarketCoin.safeParse(record.payload);
        if (!coin.success) return { ok: false, reason: z.prettifyError(coin.error) };
        const c = coin.data;
        return toOutcome({
          sourceAssetId: c.id,
          symbol: c.symbol.toUpperCase(),
          name: c.name,
          priceUsd: c.current_price,
          marketCapUsd: knownOrNull(c.market_cap),
          volume24hUsd: knownOrNull(c.total_volume),
          percentChange24h: knownOrNull(c.price_change_percentage_24h),
          rank: c.market_cap_rank ?? null,
          sourceUpdatedAt: new Date(c.last_updated),
        });
      },
    };
  },
});

import { z } from 'zod';
import { loadConfig } from '../../src/config';
import { contractOf } from '../../src/contracts/contract';
import { detectDrift, type SchemaChange } from '../../src/contracts/drift';
import { headerOrder, profileRecords } from '../../src/contracts/profile';
import { nameSimilarity, words } from '../../src/contracts/similarity';
import { createSources, sourceNamed } from '../../src/sources';
import { fixture } from '../fixtures/upstream';

const sources = createSources(loadConfig({}).sources);
const contractOfSource = (name: string) => contractOf(sourceNamed(sources, name).recordSchema as z.ZodType);
const gecko = contractOfSource('coingecko');
const paprika = contractOfSource('coinpaprika');

type Coin = Record<string, unknown>;
/** A batch of `n` recorded CoinGecko records with prices spread like a market's, bent by `bend`. */
function geckoBatch(n: number, bend: (coin: Coin, i: number) => void = () => {}): Coin[] {
  return Array.from({ length: n }, (_, i) => {
    const coin = fixture<Coin>('coingecko-market.json');
    coin.id = `coin-${i}`;
    coin.current_price = 0.01 * 10 ** (i % 7);
    bend(coin, i);
    return coin;
  });
}
const rename = (from: string, to: string) => (coin: Coin) => {
  coin[to] = coin[from];
  delete coin[from];
};
const change = (changes: SchemaChange[], field: string) => changes.find((c) => c.field === field);

describe('the contract derived from a source schema', () => {
  test('When CoinGecko’s record schema is read, then its fields, types and required ones are the ones it parses', () => {
    const byPath = new Map(gecko.map((f) => [f.path, f]));
    expect([...byPath.keys()].sort()).toEqual(
      ['current_price', 'id', 'last_updated', 'market_cap', 'market_cap_rank', 'name', 'price_change_percentage_24h', 'symbol', 'total_volume'],
    );
    expect(byPath.get('current_price')).toEqual({ path: 'current_price', types: ['number'], required: true });
    // An optional number may also be "" (unknown, src/sources/numbers.ts): a blank, as profiles count it.
    expect(byPath.get('market_cap')).toEqual({ path: 'market_cap', types: ['number', 'null'], required: false });
    expect(byPath.get('market_cap_rank')).toEqual({ path: 'market_cap_rank', types: ['number', 'null'], required: false });
    expect(byPath.get('last_updated')).toMatchObject({ types: ['string'], required: true });
  });

  test('When CoinPaprika’s nested record schema is read, then nested fields have dotted paths', () => {
    expect(paprika).toContainEqual({ path: 'quotes.USD.price', types: ['number'], required: true });
    expect(paprika).toContainEqual({ path: 'quotes.USD.market_cap', types: ['number', 'null'], required: false });
  });

  test('When a field sits under an optional object, then it is optional', () => {
    const schema = z.object({ a: z.object({ b: z.number() }).optional() });
    expect(contractOf(schema)).toEqual([{ path: 'a.b', types: ['number'], required: false }]);
  });
});

describe('profiling a batch', () => {
  test('When records are profiled, then each leaf path has its presence, types, blanks and numeric range', () => {
    const profile = profileRecords([{ a: 1, n: { b: 'x' } }, { a: 5, n: { b: '' } }, { a: null }, 'not an object']);
    expect(profile.records).toBe(4);
    expect(profile.fields.get('a')).toMatchObject({ present: 3, types: { number: 2, null: 1 }, min: 1, max: 5 });
    expect(profile.fields.get('n.b')).toMatchObject({ present: 2, types: { string: 2 }, empty: 1 });
  });

  test('When strings read as numbers, then they get a numeric range too; a text field with a few numbers among it does not', () => {
    const profile = profileRecords([{ p: '0.5', s: '1' }, { p: '1e3', s: 'BTC' }, { p: 'n/a', s: 'ETH' }, { p: ' 20 ', s: 'SOL' }]);
    expect(profile.fields.get('p')).toMatchObject({ min: 0.5, max: 1000, numericText: 3, otherText: 1 });
    expect(profile.fields.get('s')).not.toHaveProperty('min');
  });

  test('When records are profiled, then the top-level keys keep the order of the first record that had them', () => {
    const profile = profileRecords([{ b: 1, a: { x: 1 }, c: 2 }, { c: 3, b: 4, d: 5 }]);
    expect(headerOrder(profile)).toEqual(['b', 'c', 'd']);
    expect(profile.fields.get('a.x')?.column).toBeUndefined(); // nested: not a column of the header
  });

  test('When the recorded CoinPaprika ticker is profiled, then its nested quote fields are there', () => {
    const profile = profileRecords([fixture('coinpaprika-ticker.json')]);
    expect(profile.fields.get('quotes.USD.price')?.types).toEqual({ number: 1 });
  });
});

describe('detecting drift', () => {
  test('When recorded payloads match the contract, then nothing is reported, for either source', () => {
    expect(detectDrift(gecko, profileRecords(geckoBatch(20)))).toEqual([]);
    expect(detectDrift(paprika, profileRecords([fixture('coinpaprika-ticker.json')]))).toEqual([]);
  });

  test('When a required field is renamed to another case style, then it is missing and the rename scores high', () => {
    const baseline = profileRecords(geckoBatch(50));
    const changes = detectDrift(gecko, profileRecords(geckoBatch(50, rename('current_price', 'currentPrice'))), { baseline });
    expect(change(changes, 'current_price')).toMatchObject({
      kind: 'required_missing', breaking: true, records: 50,
      suggested: { field: 'currentPrice', evidence: { name: 1, sameType: true, values: 1 } },
    });
    expect(change(changes, 'current_price')?.suggested?.confidence).toBeGreaterThanOrEqual(0.9);
    expect(change(changes, 'currentPrice')).toBeUndefined(); // the new name is the suggestion, not a separate change
  });

  test('When a nested field gets a suffix, then the rename scores high', () => {
    const baseline = profileRecords([fixture('coinpaprika-ticker.json')]);
    const ticker = fixture<{ quotes: { USD: Coin } }>('coinpaprika-ticker.json');
    rename('price', 'price_usd')(ticker.quotes.USD);
    const [missing] = detectDrift(paprika, profileRecords([ticker]), { baseline });
    expect(missing).toMatchObject({ kind: 'required_missing', field: 'quotes.USD.price', suggested: { field: 'quotes.USD.price_usd' } });
    expect(missing?.suggested?.confidence).toBeGreaterThanOrEqual(0.85);
  });

  test('When, with no baseline, two present fields fit a missing one equally well, then the suggestion says so and is not confident', () => {
    // The recorded ticker also has quotes.USD.ath_price: without the last profile, both it and price_usd fit.
    const ticker = fixture<{ quotes: { USD: Coin } }>('coinpaprika-ticker.json');
    rename('price', 'price_usd')(ticker.quotes.USD);
    const [missing] = detectDrift(paprika, profileRecords([ticker]));
    const tied = [missing?.suggested?.field, missing?.suggested?.evidence.ambiguousWith];
    expect(tied.every((f) => /^quotes\.USD\..*price/.test(f ?? ''))).toBe(true);
    expect(missing?.suggested?.confidence).toBeLessThan(0.6);
  });

  test('When a field is dropped and an unrelated one appears, then no rename is suggested and the new field is reported', () => {
    const baseline = profileRecords(geckoBatch(50));
    const drifted = geckoBatch(50, (coin) => {
      delete coin.current_price;
      coin.coin_image_hash = 'a1b2c3';
    });
    const changes = detectDrift(gecko, profileRecords(drifted), { baseline });
    expect(change(changes, 'current_price')).toEqual({ kind: 'required_missing', field: 'current_price', breaking: true, records: 50 });
    expect(change(changes, 'coin_image_hash')).toMatchObject({ kind: 'new_field', breaking: false });
  });

  test('When the renamed field’s values are far from the old ones, then the value evidence lowers the confidence', () => {
    const baseline = profileRecords(geckoBatch(50));
    const sameValues = detectDrift(gecko, profileRecords(geckoBatch(50, rename('current_price', 'price'))), { baseline });
    const otherValues = detectDrift(gecko, profileRecords(geckoBatch(50, (coin) => {
      rename('current_price', 'price')(coin);
      coin.price = 1e9 + Number(coin.price);
    })), { baseline });
    const [same = 0, other = 0] = [sameValues, otherValues].map((c) => change(c, 'current_price')?.suggested?.confidence ?? 0);
    expect(same).toBeGreaterThanOrEqual(0.85);
    expect(other).toBeLessThan(same - 0.2);
  });

  test('When an optional number arrives as non-blank text, then its type changed, breaking, although "" would be allowed', () => {
    const changes = detectDrift(gecko, profileRecords(geckoBatch(10, (coin) => (coin.market_cap = '1.2B'))));
    expect(changes).toEqual([{ kind: 'type_changed', field: 'market_cap', breaking: true, records: 10, observedType: 'string' }]);
  });

  test('When a required number arrives as text, then its type changed and that is breaking', () => {
    const changes = detectDrift(gecko, profileRecords(geckoBatch(10, (coin) => (coin.current_price = String(coin.current_price)))));
    expect(changes).toEqual([{ kind: 'type_changed', field: 'current_price', breaking: true, records: 10, observedType: 'string' }]);
  });

  test('When an optional number that was filled becomes blank strings, then it became empty and that is not breaking', () => {
    const baseline = profileRecords(geckoBatch(10));
    const changes = detectDrift(gecko, profileRecords(geckoBatch(10, (coin) => (coin.market_cap = ''))), { baseline });
    expect(changes).toEqual([{ kind: 'mostly_empty', field: 'market_cap', breaking: false, records: 10 }]);
  });

  test('When only a few records lack a required field, then they are bad records, not a change of shape', () => {
    const changes = detectDrift(gecko, profileRecords(geckoBatch(10, (coin, i) => i < 2 && delete coin.current_price)));
    expect(changes).toEqual([]);
  });

  test('When a JSON record’s keys come in another order, then nothing changed: only a table’s columns have an order', () => {
    const baseline = profileRecords(geckoBatch(10));
    const reversed = geckoBatch(10).map((coin) => Object.fromEntries(Object.entries(coin).reverse()));
    expect(detectDrift(gecko, profileRecords(reversed), { baseline })).toEqual([]);
  });

  test('When an optional field the upstream never sent is absent, then nothing changed', () => {
    const baseline = profileRecords(geckoBatch(5, (coin) => delete coin.total_volume));
    expect(detectDrift(gecko, profileRecords(geckoBatch(5, (coin) => delete coin.total_volume)), { baseline })).toEqual([]);
  });
});

describe('name similarity', () => {
  test('When names differ only in case style, then they are the same words', () => {
    expect(words('marketCapUSD')).toEqual(['market', 'cap', 'usd']);
    for (const other of ['marketCap', 'MarketCap', 'market-cap', 'MARKET_CAP']) expect(nameSimilarity('market_cap', other)).toBe(1);
  });

  test('When a prefix or suffix is added, then it scores 0.9', () => {
    expect(nameSimilarity('price', 'price_usd')).toBe(0.9);
    expect(nameSimilarity('price', 'usdPrice')).toBe(0.9);
    expect(nameSimilarity('total_volume', 'volume')).toBe(0.9);
  });

  test('When names are unrelated, then they score low', () => {
    for (const [a, b] of [['current_price', 'coin_image_hash'], ['market_cap', 'last_updated'], ['symbol', 'total_volume']] as const) {
      expect(nameSimilarity(a, b)).toBeLessThan(0.35);
    }
  });

  test('When the field moved to another parent, then the score is lower', () => {
    expect(nameSimilarity('quotes.USD.price', 'data.price')).toBeLessThan(nameSimilarity('quotes.USD.price', 'quotes.USD.Price'));
  });
});

import { changeShownBy, describeChange } from '../../src/contracts/attribution';
import { sourceContract } from '../../src/contracts/contract';
import { applyMapping, fieldNameProblem, getPath } from '../../src/contracts/mapping';
import { loadConfig } from '../../src/config';
import { createSources, sourceNamed } from '../../src/sources';

describe('applyMapping', () => {
  test('When a mapped field is present under its new name, then it moves to the contract path and the input is untouched', () => {
    const raw = { id: 'btc', currentPrice: 5, other: { a: 1 } };
    const mapped = applyMapping(raw, { current_price: 'currentPrice' });
    expect(mapped).toEqual({ id: 'btc', other: { a: 1 }, current_price: 5 });
    expect(raw).toEqual({ id: 'btc', currentPrice: 5, other: { a: 1 } });
  });

  test('When paths are nested, then the value moves between nested objects, creating the parents it needs', () => {
    const raw = { quotes: { USD: { price_usd: 2, volume_24h: 9 } } };
    expect(applyMapping(raw, { 'quotes.USD.price': 'quotes.USD.price_usd' })).toEqual({ quotes: { USD: { price: 2, volume_24h: 9 } } });
    expect(applyMapping({ flat_price: 3 }, { 'quotes.USD.price': 'flat_price' })).toEqual({ quotes: { USD: { price: 3 } } });
  });

  test('When the upstream sends the contract field again, then it wins and the mapped field is left alone', () => {
    expect(applyMapping({ current_price: 1, currentPrice: 2 }, { current_price: 'currentPrice' })).toEqual({ current_price: 1, currentPrice: 2 });
  });

  test('When the mapped field is absent or the record is not an object, then the record is returned as it is', () => {
    const raw = { id: 'x' };
    expect(applyMapping(raw, { current_price: 'currentPrice' })).toBe(raw);
    expect(applyMapping([1, 2], { a: 'b' })).toEqual([1, 2]);
    expect(applyMapping(null, { a: 'b' })).toBeNull();
  });

  test('When a mapped name is one key of the record (a CSV header with dots or spaces), then that key moves, not a path through it', () => {
    expect(applyMapping({ id: 'btc', 'Vol. 24h': '12' }, { volume_24h_usd: 'Vol. 24h' })).toEqual({ id: 'btc', volume_24h_usd: '12' });
    expect(getPath({ 'a.b': 1, a: { b: 2 } }, 'a.b')).toBe(1);
  });

  test('When a value is null, then it still moves: null is a value the upstream sent', () => {
    expect(applyMapping({ cap: null }, { market_cap: 'cap' })).toEqual({ market_cap: null });
    expect(getPath({ a: { b: null } }, 'a.b')).toBeNull();
    expect(getPath({ a: { b: null } }, 'a.c')).toBeUndefined();
  });
});

describe('naming the change behind a record', () => {
  const missing = { kind: 'required_missing', field: 'current_price', suggested: { field: 'currentPrice', confidence: 0.93 } };
  const retyped = { kind: 'type_changed', field: 'market_cap_rank', observedType: 'string' };
  const blank = { kind: 'mostly_empty', field: 'symbol' };

  test('When a change is described, then it reads as the quarantine reason does', () => {
    expect(describeChange(missing)).toBe('current_price missing; currentPrice present (confidence 0.93)');
    expect(describeChange(retyped)).toBe('market_cap_rank is string now');
    expect(describeChange(blank)).toBe('symbol mostly empty');
  });

  test('When a record shows one of the changes, then that one is named; a record that does not show any gets none', () => {
    const changes = [missing, retyped, blank];
    expect(changeShownBy({ currentPrice: 1, market_cap_rank: 3, symbol: 'btc' }, changes)).toBe(missing);
    expect(changeShownBy({ current_price: 1, market_cap_rank: '3', symbol: 'btc' }, changes)).toBe(retyped);
    expect(changeShownBy({ current_price: 1, market_cap_rank: 3, symbol: ' ' }, changes)).toBe(blank);
    expect(changeShownBy({ current_price: 1, market_cap_rank: 3, symbol: 'btc' }, changes)).toBeUndefined();
  });

  test('When the source is a CSV file, then a column is found under any header spelling the contract accepts', () => {
    const contract = sourceContract(sourceNamed(createSources(loadConfig({}).sources), 'csv')) ?? [];
    const blankPrice = { kind: 'mostly_empty', field: 'price_usd' };
    expect(changeShownBy({ 'Price (USD)': ' ', symbol: 'BTC' }, [blankPrice], contract)).toBe(blankPrice);
    expect(changeShownBy({ 'Price (USD)': '64000', symbol: 'BTC' }, [blankPrice], contract)).toBeUndefined();
    const gone = { kind: 'required_missing', field: 'price_usd' };
    expect(changeShownBy({ current_price: '1' }, [gone], contract)).toBeUndefined(); // an alias: the column is there
    expect(changeShownBy({ PriceUSD: '1' }, [gone], contract)).toBe(gone);
  });
});

describe('fieldNameProblem', () => {
  test('When a name is a path or a header as spelled, then it can be mapped from; blanks, control characters and very long names cannot', () => {
    for (const name of ['currentPrice', 'quotes.USD.price_usd', 'Vol. 24h', 'Cost (USD)']) expect(fieldNameProblem(name)).toBeUndefined();
    expect(fieldNameProblem(' ')).toMatch(/blank/);
    expect(fieldNameProblem('a\tb')).toMatch(/control characters/);
    expect(fieldNameProblem('x'.repeat(201))).toMatch(/200 characters/);
  });
});

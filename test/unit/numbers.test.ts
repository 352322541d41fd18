import { numberOrNull, parseLooseNumber } from '../../src/sources/numbers';

describe('parseLooseNumber', () => {
  test.each([
    ['42', 42],
    ['3.14159', 3.14159],
    ['.5', 0.5],
    ['5.', 5],
    ['$1,234.50', 1234.5],
    ['US$ 7', 7],
    ['$ 1,234', 1234],
    ['100 USD', 100],
    ['1,234,567.891', 1234567.891],
    ['1 234 567', 1234567],
    ['1\u00a0234', 1234],
    ['1_000_000', 1_000_000],
    ['12%', 12],
    ['12 %', 12],
    ['-3.5%', -3.5],
  ])('When the text is the spreadsheet spelling %j, then it reads as %p', (text, expected) => {
    expect(parseLooseNumber(text)).toBe(expected);
  });

  test.each([
    ['1.7T', 1.7e12],
    ['4.35T', 4.35e12],
    ['2.5m', 2.5e6],
    ['1.1K', 1100],
    ['3B', 3e9],
    ['1.7 T', 1.7e12],
    ['$1.2B', 1.2e9],
    ['1,234.5M', 1_234_500_000],
  ])('When the text has a magnitude suffix like %j, then it is scaled to exactly %p', (text, expected) => {
    expect(parseLooseNumber(text)).toBe(expected);
  });

  test.each([
    ['1e-12', 1e-12],
    ['0.000000000001', 1e-12],
    [' 3e-9 ', 3e-9],
    ['9.99e15', 9.99e15],
    ['9,990,000,000,000,000', 9.99e15],
    ['1.23E+05', 123_000],
    ['1e308', 1e308],
  ])('When the value is huge or tiny (%j), then it keeps its magnitude', (text, expected) => {
    expect(parseLooseNumber(text)).toBe(expected);
  });

  test.each([
    ['-5', -5],
    ['- 5', -5],
    ['+5', 5],
    ['-$1,234.50', -1234.5],
    ['(12.5)', -12.5],
    ['( 12.5 )', -12.5],
    ['($1,234.50)', -1234.5],
    ['(1.5B)', -1.5e9],
  ])('When the text carries a sign or accounting parentheses (%j), then the sign is %p', (text, expected) => {
    expect(parseLooseNumber(text)).toBe(expected);
  });

  test.each(['', '   ', '\t', '-', '—', 'NaN', 'nan', 'n/a', 'N/A', 'NA', 'null', 'None', '?'])(
    'When the cell is the blank or no-value spelling %j, then it is null, not garbage',
    (text) => {
      expect(parseLooseNumber(text)).toBeNull();
    },
  );

  test('When there is no text at all, then it is null', () => {
    expect(parseLooseNumber(null)).toBeNull();
    expect(parseLooseNumber(undefined)).toBeNull();
  });

  test.each([
    'abc',
    '12abc',
    '1.2.3',
    '$',
    '%',
    '()',
    '.',
    '0x10',
    'Infinity',
    '-Infinity',
    '1e400',
    '--5',
    '5-',
    '1e',
    '1.7X',
    'K',
    '$-',
  ])('When the text %j is not a number, then it is undefined so the row can be quarantined', (text) => {
    expect(parseLooseNumber(text)).toBeUndefined();
  });

  test.each(['1,7', '12,34', '1,2345', '12 5', '1,234.567,8'])(
    'When separators do not group thousands (%j), then it is undefined rather than a misread number',
    (text) => {
      expect(parseLooseNumber(text)).toBeUndefined();
    },
  );
});

describe('numberOrNull', () => {
  test('When upstream JSON sends numbers, then finite ones pass and NaN or Infinity become null', () => {
    expect(numberOrNull(1e-12)).toBe(1e-12);
    expect(numberOrNull(9.99e15)).toBe(9.99e15);
    expect(numberOrNull(-2.5)).toBe(-2.5);
    expect(numberOrNull(Number.NaN)).toBeNull();
    expect(numberOrNull(Number.POSITIVE_INFINITY)).toBeNull();
  });

  test('When upstream JSON sends numeric strings, then they are parsed; garbage and non-numbers become null', () => {
    expect(numberOrNull('1234.5')).toBe(1234.5);
    expect(numberOrNull('$1,234.50')).toBe(1234.5);
    expect(numberOrNull('not a number')).toBeNull();
    expect(numberOrNull('')).toBeNull();
    expect(numberOrNull(null)).toBeNull();
    expect(numberOrNull(undefined)).toBeNull();
    expect(numberOrNull(true)).toBeNull();
    expect(numberOrNull({ value: 1 })).toBeNull();
  });
});

import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export const CSV_HEADER = 'id,symbol,name,price_usd,market_cap_usd,volume_24h_usd,percent_change_24h,rank,last_updated';

/** Snapshots are this far apart, starting at 2026-01-01T00:00:00Z. */
const SNAPSHOT_MS = 5 * 60_000;
const START_MS = Date.UTC(2026, 0, 1);
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
/** Rows joined into one write: few enough syscalls, small enough to keep memory flat. */
const ROWS_PER_WRITE = 2_000;

/**
 * Writes a market-history CSV of `ids` coins × `snapshots` timestamps, snapshot after snapshot (the shape of an
 * export appended to every few minutes), streaming with back-pressure so memory stays flat at any size.
 * Values are a pure function of (coin, snapshot): the same arguments write the same bytes.
 */
export async function writeCsvFixture(path: string, options: { ids: number; snapshots: number }): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const closed = once(out, 'close');
  let rows = 0;
  let chunk = `${CSV_HEADER}\n`;
  for (let snapshot = 0; snapshot < options.snapshots; snapshot++) {
    const at = new Date(START_MS + snapshot * SNAPSHOT_MS).toISOString();
    for (let coin = 0; coin < options.ids; coin++) {
      chunk += row(coin, snapshot, at);
      if (++rows % ROWS_PER_WRITE === 0) {
        if (!out.write(chunk)) await once(out, 'drain');
        chunk = '';
      }
    }
  }
  out.end(chunk);
  await closed;
  return rows;
}

function row(coin: number, snapshot: number, at: string): string {
  const base = 0.0001 * 10 ** (7 * unit(coin, 1)); // 1e-4 .. 1e3 USD
  const price = base * (1 + 0.05 * Math.sin(snapshot / 7 + coin));
  const supply = 1e6 * 10 ** (4 * unit(coin, 2));
  const cap = price * supply;
  const volume = cap * 0.05 * unit(coin, 3 + snapshot);
  const change = 10 * (unit(coin, 4 + snapshot) - 0.5);
  return `coin-${coin},${symbol(coin)},Coin ${coin} ${SUFFIXES[coin % SUFFIXES.length]},${price.toPrecision(8)},${cap.toFixed(2)},${volume.toFixed(2)},${change.toFixed(3)},${coin + 1},${at}\n`;
}

const SUFFIXES = ['Protocol', 'Finance', 'Network', 'Chain', 'Swap', 'DAO', 'Labs', 'Cash'] as const;

function symbol(coin: number): string {
  let n = Math.floor(unit(coin, 5) * 26 ** 4);
  let text = '';
  for (let i = 0; i < 4; i++) {
    text += LETTERS.charAt(n % 26);
    n = Math.floor(n / 26);
  }
  return text;
}

/** A stateless hash of (a, b) in [0, 1). */
function unit(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

import { readCache } from '../../api/read-cache';

/** A query whose answers are counted and released by hand. */
function query() {
  const pending: ((v: number) => void)[] = [];
  const failures: ((e: Error) => void)[] = [];
  let calls = 0;
  return {
    compute: () => {
      calls += 1;
      return new Promise<number>((resolve, reject) => {
        pending.push(resolve);
        failures.push(reject);
      });
    },
    calls: () => calls,
    answer: (v: number) => {
      failures.shift();
      pending.shift()?.(v);
    },
    fail: () => {
      pending.shift();
      failures.shift()?.(new Error('down'));
    },
  };
}

// setImmediate is left real (doNotFake below): it lets settled promises run their handlers.
const flush = () => new Promise((resolve) => setImmediate(resolve));

/** A cache holding one answer (1) for 'k', then `ms` later. */
async function primed(cache: ReturnType<typeof readCache<number>>, q: ReturnType<typeof query>, ms: number) {
  const first = cache('k', q.compute);
  q.answer(1);
  await first;
  jest.advanceTimersByTime(ms);
}

beforeEach(() => {
  jest.useFakeTimers({ now: new Date('2026-12-03T12:00:00Z'), doNotFake: ['setImmediate'] });
});
afterEach(() => {
  jest.useRealTimers();
});

describe('readCache', () => {
  test('When requests for one key come together, then one query answers them all until the ttl', async () => {
    const cache = readCache<number>(1_000);
    const q = query();
    const [a, b] = [cache('k', q.compute), cache('k', q.compute)];
    q.answer(1);
    expect(await Promise.all([a, b])).toEqual([1, 1]);
    jest.advanceTimersByTime(999);
    expect(await cache('k', q.compute)).toBe(1);
    expect(q.calls()).toBe(1);
  });

  test('When an entry has expired, then it answers at once while one refresh runs, and the refresh takes over', async () => {
    const cache = readCache<number>(1_000);
    const q = query();
    await primed(cache, q, 1_200);
    // Expired: the old answer, without waiting, and a single refresh for any number of requests.
    expect(await Promise.all([cache('k', q.compute), cache('k', q.compute)])).toEqual([1, 1]);
    expect(q.calls()).toBe(2);
    q.answer(2);
    await flush();
    expect(await cache('k', q.compute)).toBe(2);
    expect(q.calls()).toBe(2);
  });

  test('When a refresh takes longer than the ttl again, then past twice the ttl requests wait for it', async () => {
    const cache = readCache<number>(1_000);
    const q = query();
    await primed(cache, q, 1_500);
    expect(await cache('k', q.compute)).toBe(1); // starts the refresh
    jest.advanceTimersByTime(600); // 2.1 s old: too old to serve
    const waiting = cache('k', q.compute);
    let settled = false;
    void waiting.then(() => (settled = true));
    await flush();
    expect(settled).toBe(false);
    q.answer(2);
    expect(await waiting).toBe(2);
    expect(q.calls()).toBe(2);
  });

  test('When a refresh fails, then the entry is forgotten and the next request queries again', async () => {
    const cache = readCache<number>(1_000);
    const q = query();
    await primed(cache, q, 1_200);
    expect(await cache('k', q.compute)).toBe(1);
    q.fail();
    await flush();
    const next = cache('k', q.compute);
    expect(q.calls()).toBe(3);
    q.answer(3);
    expect(await next).toBe(3);
  });

  test('When the version changes, then nothing cached before is served, not even while refreshing', async () => {
    let version: number | undefined = 1;
    const cache = readCache<number>(1_000, { version: () => version });
    const q = query();
    await primed(cache, q, 1_200);
    expect(await cache('k', q.compute)).toBe(1); // expired, refresh running
    version = 2;
    const fresh = cache('k', q.compute);
    expect(q.calls()).toBe(3);
    q.answer(2); // the refresh begun under version 1: not kept
    q.answer(3);
    expect(await fresh).toBe(3);
    await flush();
    expect(await cache('k', q.compute)).toBe(3);
    // While changes cannot be seen, nothing is reused.
    version = undefined;
    const unseen = cache('k', q.compute);
    q.answer(4);
    expect(await unseen).toBe(4);
    expect(q.calls()).toBe(4);
  });

  test('When the first query is still running past the ttl, then no second one starts beside it', async () => {
    const cache = readCache<number>(1_000);
    const q = query();
    const slow = cache('k', q.compute);
    jest.advanceTimersByTime(2_500);
    const meanwhile = cache('k', q.compute);
    expect(q.calls()).toBe(1);
    q.answer(1);
    expect(await Promise.all([slow, meanwhile])).toEqual([1, 1]);
  });

  test('When the ttl is 0, then every request queries', async () => {
    const cache = readCache<number>(0);
    const q = query();
    const [a, b] = [cache('k', q.compute), cache('k', q.compute)];
    q.answer(1);
    q.answer(2);
    expect(await Promise.all([a, b])).toEqual([1, 2]);
  });
});

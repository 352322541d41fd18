import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { createApiContext, type ApiContext } from '../support/api';
import { launchChromium, withPage } from '../support/browser';
import { ingest } from '../support/ingest';

let ctx: ApiContext;
let server: Server;
let baseUrl: string;
let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium(); // first: without Chromium, fail before starting what would need stopping
  ctx = await createApiContext({ coins: 120 });
  await ingest(ctx.db.sql, ctx.sources, 'coingecko');
  server = ctx.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await ctx?.close();
});

describe('the Swagger UI at /docs in a real browser', () => {
  test('When GET /data is tried out with limit 5 and executed, then the page shows a 200 and a page of the loaded quotes', async () => {
    const [listings] = await ctx.db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM latest_quotes`;
    expect(listings?.n).toBeGreaterThan(5);
    const served = ctx.responses();

    await withPage(browser, 'docs', async ({ page, shot }) => {
      await page.goto(`${baseUrl}/docs/`);
      await page.getByRole('heading', { name: /kasparro-etl/ }).waitFor({ timeout: 30_000 });
      await shot('rendered');

      await page.getByRole('button', { name: /^GET \/data / }).click();
      const operation = page.locator('#operations-data-get_data');
      await operation.getByRole('button', { name: 'Try it out' }).click();
      await operation.getByRole('textbox', { name: 'limit' }).fill('5');
      await shot('try-it-out');
      await operation.getByRole('button', { name: 'Execute' }).click();

      // The live response, as Swagger UI renders it: under "Server response", apart from the documented ones.
      const live = operation.getByRole('table').filter({ has: page.getByRole('heading', { name: 'Response body' }) });
      await live.waitFor({ timeout: 30_000 });
      await shot('executed', operation);
      await expect(operation.getByText(/\/data\?.*limit=5/).first().textContent()).resolves.toContain(`${baseUrl}/data?`);
      await expect(live.getByRole('cell', { name: '200', exact: true }).count()).resolves.toBe(1);
      const body = JSON.parse((await live.getByRole('code').first().textContent()) ?? '');
      expect(body.pagination).toMatchObject({ limit: 5, offset: 0, total: listings?.n });
      expect(body.data).toHaveLength(5);
      expect(body.data.every((q: { source: string }) => q.source === 'coingecko')).toBe(true);
    });

    // The browser's request reached the API (and its response matched openapi.json).
    expect(ctx.responses()).toBe(served + 1);
    expect(ctx.nonConformant()).toEqual([]);
  });
});

import type { Client } from '@temporalio/client';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { SOURCE_SEARCH_ATTRIBUTE, workflowIdFor } from '../../src/shared/names';
import type { FailureInjection, IngestResult, Progress } from '../../src/shared/types';
import { startIngest } from '../../src/temporal/start-run';
import { devServerWithWebUi, launchChromium, withPage, type WebUiEnvironment } from '../support/browser';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { createHarness, type Harness } from '../support/etl';
import { eventually } from '../support/eventually';
import { bundleWorkflows } from '../support/temporal';

/**
 * The Temporal Web UI, driven as an operator would in the README's runbook: filter the runs by source, open one,
 * read its progress, and reset a failed run. Temporal's client only starts runs and waits for them; everything the
 * test checks about the UI is read from the rendered page, and everything about the data from PostgreSQL.
 */

let web: WebUiEnvironment;
let client: Client;
let bundle: WorkflowBundleWithSourceMap;
let browser: Browser;
let db: TestDatabase;
let harness: Harness;
let stopWorker: () => void;
let worker: Promise<unknown>;

beforeAll(async () => {
  browser = await launchChromium(); // first: without Chromium, fail before starting what would need stopping
  [web, bundle, db] = await Promise.all([devServerWithWebUi(), bundleWorkflows(), createTestDatabase()]);
  client = web.env.client;
  harness = await createHarness({ env: web.env, sql: db.sql, bundle, coins: 600 });
  // One worker for the whole file: it runs the ETL and answers the queries the Web UI sends.
  worker = harness.withWorker(() => new Promise<void>((resolve) => (stopWorker = resolve)));
});
afterAll(async () => {
  stopWorker?.();
  await worker;
  await harness?.close();
  await browser?.close();
  await db?.drop();
  await web?.env.teardown();
});

describe('the Temporal Web UI in a real browser', () => {
  test('When runs are filtered by EtlSource, then only that source is listed, and its running run shows live progress', async () => {
    await runToEnd('csv');
    // CoinGecko's first page loads (a no-op fault takes the first request); every later one answers 429 with
    // Retry-After 8 s until the faults are cleared: a run held in flight with one batch committed, for the ~90 s
    // that fetchBatch's 12 attempts last.
    harness.simulator.setFault({ kind: 'slow', source: 'coingecko', delayMs: 0 });
    harness.simulator.setFault({ kind: 'rate-limit', source: 'coingecko', retryAfterSeconds: 8, times: -1 });
    const started = await startIngest(client, { source: 'coingecko', trigger: 'cli', taskQueue: harness.taskQueue });
    await eventually(
      'one batch of coingecko committed and the next page refused',
      async () => (await runRow('coingecko'))?.fetched === 250 && harness.simulator.requests.count('/api/v3/coins/markets') >= 2,
      { intervalMs: 200 },
    );

    await withPage(browser, 'web-ui-progress', async ({ page, shot }) => {
      await page.goto(`${web.uiUrl}/namespaces/default/workflows`);
      await waitForListed(page, ['etl-coingecko Running', 'etl-csv Completed']);
      await shot('all-runs');

      await filterBySource(page, 'coingecko');
      await waitForListed(page, ['etl-coingecko Running']);
      expect(decodeURIComponent(page.url())).toMatch(new RegExp(`${SOURCE_SEARCH_ATTRIBUTE}\`?\\s*=\\s*"coingecko"`));
      await shot('filtered-by-source');

      await openRun(page, 'etl-coingecko');
      await statusBadge(page, 'Running').waitFor();
      await page.getByRole('link', { name: harness.taskQueue }).first().waitFor();
      await page.getByRole('tab', { name: /^Pending Activities/ }).click();
      await page.getByRole('main').getByText('fetchBatch').first().waitFor();
      await page.getByRole('main').getByText(/429 Too Many Requests/).first().waitFor();
      await shot('pending-fetch-retrying');

      const progress = await queryProgress(page);
      await shot('progress-query');
      const row = await runRow('coingecko');
      expect(progress).toMatchObject({ source: 'coingecko', runId: started.runId, phase: 'fetching', batches: 1 });
      expect(progress.counts.fetched).toBe(row?.fetched);
      expect(row?.status).toBe('running');

      harness.simulator.clearFaults();
      const result: IngestResult = await client.workflow.getHandle(started.workflowId).result();
      await page.reload();
      await statusBadge(page, 'Completed').waitFor();
      const done = await queryProgress(page);
      await shot('completed-progress');
      expect(done).toMatchObject({ phase: 'done', batches: result.batches, counts: result.counts });
      expect(await runRow('coingecko')).toMatchObject({ status: 'succeeded', fetched: result.counts.fetched });
    });
  });

  test('When a run failed by fatal injection is reset from the Web UI to its first workflow task, then it succeeds with no duplicate quotes', async () => {
    const workflowId = workflowIdFor('coinpaprika');
    await expect(runToEnd('coinpaprika', { afterRecords: 300, mode: 'fatal' })).rejects.toThrow();
    const failed = await runRow('coinpaprika');
    expect(failed).toMatchObject({ status: 'failed', fetched: 500 }); // two batches of 250 committed, then the fault
    await expect(quoteCounts()).resolves.toEqual({ rows: failed?.inserted, keys: failed?.inserted });
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const firstTask = history.events?.find((e) => e.workflowTaskCompletedEventAttributes)?.eventId?.toString();

    const { resetRunId, result } = await withPage(browser, 'web-ui-reset', async ({ page, shot }) => {
      // The runbook: filter by source, open the failed run, Reset to the first workflow task.
      await page.goto(`${web.uiUrl}/namespaces/default/workflows`);
      await workflowLink(page, workflowId).first().waitFor();
      await filterBySource(page, 'coinpaprika');
      await waitForListed(page, ['etl-coinpaprika Failed']);
      await shot('failed-run-listed');
      await openRun(page, workflowId);
      await statusBadge(page, 'Failed').waitFor();
      const failedRunId = runIdOf(page.url());
      await shot('failed-run');

      await page.getByRole('button', { name: 'Reset', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Reset Workflow' });
      // The event picker is a button without an accessible name; its test id is the UI's own.
      await dialog.getByTestId('workflow-reset-event-id-select-button').click();
      const firstOption = dialog.getByRole('option', { name: /WorkflowTaskCompleted/ }).first();
      expect((await firstOption.innerText()).trim()).toBe(`${firstTask} - WorkflowTaskCompleted`);
      await firstOption.click();
      await dialog.getByRole('textbox').last().fill('retry from the Web UI (browser test)');
      await shot('reset-dialog');
      await dialog.getByRole('button', { name: 'Confirm' }).click();

      await page.getByText('This Workflow has been reset').waitFor();
      await shot('reset-done');
      await page.getByRole('link', { name: 'here', exact: true }).click();
      await page.waitForURL((url) => runIdOf(url.href) !== failedRunId);
      const resetRunId = runIdOf(page.url());
      const result: IngestResult = await client.workflow.getHandle(workflowId, resetRunId).result();
      await page.reload();
      await statusBadge(page, 'Completed').waitFor();
      await shot('reset-run-completed');

      await page.goto(`${web.uiUrl}/namespaces/default/workflows`);
      await filterBySource(page, 'coinpaprika');
      await waitForListed(page, ['etl-coinpaprika Completed', 'etl-coinpaprika Failed']);
      await shot('runs-after-reset');
      return { resetRunId, result };
    });

    // One etl_runs row (the chain's first run id): the reset run took it over and recorded it succeeded.
    const [runs] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM etl_runs WHERE source = 'coinpaprika'`;
    expect(runs?.n).toBe(1);
    const row = await runRow('coinpaprika');
    const tickers = await upstreamTickers();
    expect(row).toMatchObject({ status: 'succeeded', fetched: tickers, run_id: failed?.run_id, temporal_run_id: resetRunId });
    expect(result.counts.fetched).toBe(tickers);
    // Every ticker is one quote (or one quarantined record), none twice.
    const [quarantined] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM quarantine WHERE source = 'coinpaprika'`;
    await expect(quoteCounts()).resolves.toEqual({ rows: row?.inserted, keys: row?.inserted });
    expect((row?.inserted ?? 0) + (quarantined?.n ?? 0)).toBe(tickers);
    const [fired] = await db.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM etl_fault_injections`;
    expect(fired?.n).toBe(1);
  });
});

async function runToEnd(source: string, failure?: FailureInjection): Promise<IngestResult> {
  const run = await startIngest(client, { source, trigger: 'cli', taskQueue: harness.taskQueue, failure });
  return client.workflow.getHandle(run.workflowId).result();
}

interface RunRow {
  run_id: string;
  temporal_run_id: string;
  status: string;
  fetched: number;
  inserted: number;
}

async function runRow(source: string): Promise<RunRow | undefined> {
  const [row] = await db.sql<RunRow[]>`
    SELECT run_id, temporal_run_id, status, fetched, inserted FROM etl_runs WHERE source = ${source} ORDER BY started_at DESC LIMIT 1`;
  return row;
}

/** Quote rows of CoinPaprika, and how many distinct natural keys they have: equal when nothing is duplicated. */
async function quoteCounts(): Promise<{ rows: number; keys: number }> {
  const [counts] = await db.sql<{ rows: number; keys: number }[]>`
    SELECT count(*)::int AS rows, count(DISTINCT (source_asset_id, source_updated_at))::int AS keys
      FROM quotes WHERE source = 'coinpaprika'`;
  return counts ?? { rows: -1, keys: -1 };
}

/** How many tickers the simulated CoinPaprika serves: what a complete run must have fetched. */
async function upstreamTickers(): Promise<number> {
  const res = await fetch(`${harness.simulator.url}/v1/tickers`);
  return ((await res.json()) as unknown[]).length;
}

function workflowLink(page: Page, workflowId: string) {
  return page.getByRole('table', { name: 'Workflows' }).getByRole('link', { name: workflowId, exact: true });
}

/** Opens a listed run's page from the list. */
async function openRun(page: Page, workflowId: string): Promise<void> {
  await workflowLink(page, workflowId).click();
  await page.getByRole('heading', { name: workflowId, level: 1 }).waitFor();
}

/** The status badge beside the workflow page's heading ("Completed", not "Workflow Execution Completed"). */
function statusBadge(page: Page, status: string) {
  return page.getByRole('main').getByText(status, { exact: true }).first();
}

/** Through the list's own filter controls: Add Filter, the search attribute, its value. */
async function filterBySource(page: Page, source: string): Promise<void> {
  await page.getByRole('button', { name: 'Add Filter' }).click();
  await page.getByRole('menuitem', { name: `${SOURCE_SEARCH_ATTRIBUTE} Keyword` }).click();
  const value = page.getByPlaceholder('Enter value...');
  await value.fill(source);
  await value.press('Enter');
  await page.waitForURL(/query=/);
}

const STATUSES = /^\s*(Running|Completed|Failed|Terminated|Canceled|Timed Out|Continued as New)\s*$/;

/** "workflow-id Status" for every row the list shows, in its order (newest first). */
async function listedRuns(page: Page): Promise<string[]> {
  const rows = page.getByRole('table', { name: 'Workflows' }).getByRole('row').filter({ has: page.getByRole('link', { name: /^etl-/ }) });
  const listed: string[] = [];
  for (const row of await rows.all()) {
    const id = await row.getByRole('link', { name: /^etl-/ }).first().innerText({ timeout: 5_000 });
    const status = await row.getByRole('cell').filter({ hasText: STATUSES }).first().innerText({ timeout: 5_000 });
    listed.push(`${id.trim()} ${status.trim()}`);
  }
  return listed;
}

/** The list is not live: reload until it shows exactly `expected` (in any order), or fail saying what it showed. */
async function waitForListed(page: Page, expected: string[], timeoutMs = 30_000): Promise<void> {
  const want = [...expected].sort();
  const deadline = Date.now() + timeoutMs;
  let seen: string[] = [];
  for (;;) {
    await page.getByRole('table', { name: 'Workflows' }).waitFor();
    seen = (await listedRuns(page)).sort();
    if (JSON.stringify(seen) === JSON.stringify(want)) return;
    if (Date.now() > deadline) throw new Error(`the Web UI lists ${JSON.stringify(seen)}, expected ${JSON.stringify(want)}`);
    await page.waitForTimeout(1_000);
    await page.reload();
  }
}

/** Runs the workflow's progress query from its Queries tab and reads the JSON the UI renders. */
async function queryProgress(page: Page): Promise<Progress> {
  await page.getByRole('tab', { name: 'Queries' }).click();
  await page.getByRole('button', { name: 'progress' }).waitFor();
  await page.getByRole('button', { name: 'Run Query' }).click();
  const output = page.getByRole('main').getByRole('textbox').filter({ hasText: '"phase"' });
  await output.waitFor();
  return JSON.parse((await output.textContent()) ?? '') as Progress;
}

function runIdOf(url: string): string {
  const match = /\/workflows\/[^/]+\/([^/]+)\//.exec(new URL(url).pathname);
  if (!match?.[1]) throw new Error(`no run id in ${url}`);
  return match[1];
}

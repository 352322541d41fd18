import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { freePort, waitForPort } from '../../src/infra/temporal-binaries';
import { devServerEnvironment } from './temporal';

/**
 * Real-browser tests drive the system's Chromium through playwright-core: no browser is downloaded. The binary is
 * CHROMIUM_PATH when set (a test-only setting, read here rather than in src/config.ts, which configures the
 * service), else Debian's /usr/bin/chromium.
 */
const DEFAULT_CHROMIUM = '/usr/bin/chromium';

function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH || DEFAULT_CHROMIUM;
  if (!existsSync(path)) {
    throw new Error(
      `Chromium not found at ${path}. Browser tests need it: on Debian/Ubuntu ` +
        '`apt-get install -y --no-install-recommends chromium`, or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }
  return path;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** Screenshots of each step, kept as test artifacts (git-ignored). */
const SCREENSHOT_DIR = resolve(__dirname, '../../test-artifacts/screenshots');

export interface BrowserSession {
  page: Page;
  /** Saves the whole page, or only `part` of it, as test-artifacts/screenshots/<prefix>-<NN>-<step>.png. */
  shot(step: string, part?: Locator): Promise<void>;
}

/**
 * Runs `body` on a fresh page (one browser context, closed after it). A failing body leaves a screenshot of where
 * it stopped, `<prefix>-failure.png`, next to the steps' own.
 */
export async function withPage<T>(browser: Browser, prefix: string, body: (session: BrowserSession) => Promise<T>): Promise<T> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const page = await context.newPage();
  let steps = 0;
  const shot = async (step: string, part?: Locator) => {
    const path = join(SCREENSHOT_DIR, `${prefix}-${String(++steps).padStart(2, '0')}-${step}.png`);
    await (part ? part.screenshot({ path }) : page.screenshot({ path, fullPage: true }));
  };
  try {
    return await body({ page, shot });
  } catch (err) {
    await page.screenshot({ path: join(SCREENSHOT_DIR, `${prefix}-failure.png`), fullPage: true }).catch(() => undefined);
    throw err;
  } finally {
    await context.close();
  }
}

export interface WebUiEnvironment {
  env: TestWorkflowEnvironment;
  /** Base URL of the dev server's Web UI. */
  uiUrl: string;
}

/**
 * A Temporal dev server (the CLI) with its Web UI on a free port, once the UI answers.
 */
export async function devServerWithWebUi(): Promise<WebUiEnvironment> {
  const uiPort = await freePort();
  const env = await devServerEnvironment({ uiPort });
  // The SDK does not wait for the UI.
  await waitForPort(uiPort, 30_000);
  return { env, uiUrl: `http://127.0.0.1:${uiPort}` };
}

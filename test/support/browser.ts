import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { loadConfig } from '../../src/config';
import { freePort, waitForPort } from '../../src/infra/temporal-binaries';
import { testLogger } from './logger';
import { packagedChromium, type ChromiumBinary } from './packaged-chromium';
import { devServerEnvironment } from './temporal';

/**
 * Real-browser tests drive Chromium through playwright-core; no browser is downloaded. The browser, in this order:
 *  1. CHROMIUM_PATH when set, any Chromium or Chrome (a test-only setting, read here rather than in
 *     src/config.ts, which configures the service);
 *  2. the one packed in the @sparticuz/chromium devDependency (Linux x64), unpacked once into the cache: the same
 *     build, fonts and software rendering on every machine;
 *  3. Debian's /usr/bin/chromium, where the packaged build does not run (other platforms and architectures).
 */
const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/**
 * From @sparticuz/chromium's own `args`, only what a test here needs. Left out: --single-process (with it, closing
 * a browser context closed the whole browser), and the ones that hide what a user's browser would show
 * (--disable-web-security, --allow-running-insecure-content, no site isolation).
 */
const ARGS = [
  // Root in CI, where Chromium's sandbox refuses to start (playwright-core's default too).
  '--no-sandbox',
  // Containers often give /dev/shm 64 MB.
  '--disable-dev-shm-usage',
  // Software compositing, with or without a GPU; WebGL still works, on SwiftShader.
  '--disable-gpu',
  // Glyph shapes independent of the machine's hinting settings.
  '--font-render-hinting=none',
];

let packaged: Promise<ChromiumBinary | undefined> | undefined;

async function findChromium(): Promise<ChromiumBinary> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) {
    if (!existsSync(configured)) throw new Error(`CHROMIUM_PATH is ${configured}, which does not exist.`);
    return { executablePath: configured, env: {} };
  }
  packaged ??= packagedChromium(loadConfig().binaries.cacheDir, testLogger);
  const found = (await packaged) ?? (existsSync(SYSTEM_CHROMIUM) ? { executablePath: SYSTEM_CHROMIUM, env: {} } : undefined);
  if (!found) {
    throw new Error(
      `Chromium not found: @sparticuz/chromium runs on Linux x64 only (this is ${process.platform} ${process.arch}) ` +
        `and ${SYSTEM_CHROMIUM} does not exist. Set CHROMIUM_PATH to a Chromium or Chrome binary.`,
    );
  }
  return found;
}

export async function launchChromium(): Promise<Browser> {
  const { executablePath, env } = await findChromium();
  return chromium.launch({ executablePath, args: ARGS, env: { ...process.env, ...env } });
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

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../src/config';
import type { Logger } from '../../src/logger';
import { goInstall, onPath } from '../../src/infra/temporal-binaries';
import { REPO_ROOT } from './processes';

const run = promisify(execFile);

/** The server release docker-compose.yml runs (temporalio/server and temporalio/admin-tools, same minor). */
export const TEMPORAL_SERVER_VERSION = '1.29.1';
const SERVER_MODULE = 'go.temporal.io/server';
const RENDER_TEMPLATE_SOURCE = join(REPO_ROOT, 'tools', 'render-template');

/** What the compose file's Temporal images hold, built natively: test/integration/compose-temporal.test.ts. */
export interface TemporalServerTools {
  /** temporalio/server's `temporal-server`. */
  server: string;
  /** temporalio/admin-tools' `temporal-sql-tool`. */
  sqlTool: string;
  /** dockerize's template rendering, as the server image's entrypoint applies it (tools/render-template). */
  renderTemplate: string;
  /** The server module's source: docker/config_template.yaml, schema/ (the images' /etc/temporal/schema). */
  moduleDir: string;
}

/**
 * Builds the server and the SQL tool of TEMPORAL_SERVER_VERSION from the Go module proxy into the cache outside
 * the repo (first time about 6 minutes on two cores), and the template renderer from tools/. undefined without Go.
 */
export async function findTemporalServerTools(config: Config, log: Logger): Promise<TemporalServerTools | undefined> {
  if (!onPath(config.binaries.searchPath, 'go')) return undefined;
  const dir = join(config.binaries.cacheDir, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const server = join(dir, 'temporal-server');
  const sqlTool = join(dir, 'temporal-sql-tool');
  for (const [binary, pkg] of [[server, 'cmd/server'], [sqlTool, 'cmd/tools/sql']] as const) {
    if (existsSync(binary)) continue;
    const module = `${SERVER_MODULE}/${pkg}@v${TEMPORAL_SERVER_VERSION}`;
    log.info({ module }, 'building with Go (first time only, a few minutes)');
    await goInstall(config.binaries.cacheDir, module, binary);
  }
  const { stdout } = await run('go', ['mod', 'download', '-json', `${SERVER_MODULE}@v${TEMPORAL_SERVER_VERSION}`], {
    cwd: config.binaries.cacheDir,
    maxBuffer: 16 * 1024 * 1024,
  });
  const moduleDir = (JSON.parse(stdout) as { Dir: string }).Dir;
  return { server, sqlTool, renderTemplate: await buildRenderTemplate(dir), moduleDir };
}

/** tools/render-template, rebuilt whenever its source changes (a stamp of the source's hash beside it). */
async function buildRenderTemplate(dir: string): Promise<string> {
  const binary = join(dir, 'render-template');
  const hash = createHash('sha256');
  for (const file of ['go.mod', 'main.go']) hash.update(await readFile(join(RENDER_TEMPLATE_SOURCE, file)));
  const stamp = hash.digest('hex').slice(0, 16);
  if (existsSync(binary) && (await readFile(`${binary}.stamp`, 'utf8').catch(() => '')) === stamp) return binary;
  await mkdir(dir, { recursive: true });
  await run('go', ['build', '-o', binary, '.'], { cwd: RENDER_TEMPLATE_SOURCE, env: { ...process.env, CGO_ENABLED: '0' } });
  await writeFile(`${binary}.stamp`, stamp);
  return binary;
}

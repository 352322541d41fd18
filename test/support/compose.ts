import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT } from './processes';

const run = promisify(execFile);

/** A service of docker-compose.yml after compose-go has loaded it: interpolated, env_file merged, `$$` unescaped. */
export interface ComposeService {
  image?: string;
  entrypoint?: string[];
  command?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
}

/**
 * docker-compose.yml's services as `docker compose` would run them, with `dotEnv` as the project's .env (the
 * file the README has users create), loaded by compose-go through scripts/compose-check.sh.
 */
export async function loadCompose(dotEnv: Record<string, string>): Promise<Record<string, ComposeService>> {
  const dir = await mkdtemp(join(tmpdir(), 'kasparro-compose-'));
  try {
    await copyFile(join(REPO_ROOT, 'docker-compose.yml'), join(dir, 'docker-compose.yml'));
    await writeFile(join(dir, '.env'), Object.entries(dotEnv).map(([k, v]) => `${k}=${v}\n`).join(''));
    const { stdout } = await run('bash', [join(REPO_ROOT, 'scripts', 'compose-check.sh'), '-f', join(dir, 'docker-compose.yml')], {
      maxBuffer: 16 * 1024 * 1024,
    });
    return (parse(stdout) as { services: Record<string, ComposeService> }).services;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

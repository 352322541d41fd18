import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../src/config';
import { goInstall } from '../src/infra/temporal-binaries';
import type { Logger } from '../src/logger';

export const VEGETA_MODULE = 'github.com/tsenart/vegeta/v12@v12.12.0';

/** vegeta, the open-loop load generator, built once from the Go module proxy into `<cache>/vegeta-12.12.0/`. */
export async function findVegeta(config: Config, log: Logger): Promise<string> {
  const binary = join(config.binaries.cacheDir, 'vegeta-12.12.0', 'vegeta');
  if (existsSync(binary)) return binary;
  log.info({ module: VEGETA_MODULE }, 'building vegeta with Go (first time only, about a minute)');
  await goInstall(config.binaries.cacheDir, VEGETA_MODULE, binary);
  return binary;
}

export interface OpenLoopResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/**
 * GET `url` at `rate` requests/s for `seconds`, open loop: requests leave on schedule whether or not earlier ones
 * have answered (vegeta opens connections as needed), so a slow answer shows in the latency rather than slowing
 * the arrivals. Latencies in ms; errors are transport errors plus non-2xx answers.
 */
export async function attack(vegeta: string, url: string, rate: number, seconds: number): Promise<OpenLoopResult> {
  const args = ['attack', `-rate=${Math.max(1, Math.round(rate))}/s`, `-duration=${seconds}s`, '-timeout=10s', '-max-body=0'];
  const attacker = spawn(vegeta, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const reporter = spawn(vegeta, ['report', '-type=json'], { stdio: ['pipe', 'pipe', 'inherit'] });
  attacker.stdout.pipe(reporter.stdin);
  attacker.stdin.end(`GET ${url}\n`);
  let out = '';
  reporter.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    reporter.once('error', reject);
    attacker.once('error', reject);
    reporter.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`vegeta report exited with ${code}`))));
  });
  const report = JSON.parse(out) as {
    latencies: { '50th': number; '99th': number };
    throughput: number;
    requests: number;
    success: number;
    status_codes: Record<string, number>;
  };
  const ok = Object.entries(report.status_codes)
    .filter(([code]) => code.startsWith('2'))
    .reduce((sum, [, n]) => sum + n, 0);
  return {
    rps: report.throughput,
    p50: report.latencies['50th'] / 1e6,
    p99: report.latencies['99th'] / 1e6,
    errors: report.requests - ok,
  };
}

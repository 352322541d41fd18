/**
 * Runs the market simulator on its own, for the offline demo and benchmarks:
 *
 *   npx tsx src/simulator/main.ts --coins 5000 --seed 42 --port 4010
 *
 * Prints the base URL on stdout (alone on its line, so scripts can read it) and stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_COINS, DEFAULT_SEED } from './market';
import { startSimulator } from './server';

const USAGE = 'usage: main.ts [--coins N] [--seed N] [--port N] [--host ADDRESS]';

interface Args {
  coins: number;
  seed: number;
  port: number;
  host: string;
}

function parseCommandLine(argv: string[]): Args {
  const { values } = parseArgs({
    args: argv,
    options: {
      coins: { type: 'string' },
      seed: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  return {
    coins: integerOption('coins', values.coins, DEFAULT_COINS),
    seed: integerOption('seed', values.seed, DEFAULT_SEED),
    port: integerOption('port', values.port, 4010),
    host: values.host ?? '127.0.0.1',
  };
}

function integerOption(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(value)) {
    throw new Error(`--${name} must be an integer, got "${text}"\n${USAGE}`);
  }
  return value;
}

async function main(): Promise<void> {
  const args = parseCommandLine(process.argv.slice(2));
  const simulator = await startSimulator(args);
  console.log(simulator.url);
  console.error(
    `market simulator: ${args.coins} coins, seed ${args.seed}; admin at ${simulator.url}/__sim/health (Ctrl-C to stop)`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    // A second signal means the user is done waiting for a graceful close.
    if (stopping) process.exit(1);
    stopping = true;
    console.error(`market simulator: ${signal}, closing`);
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { SOURCE_DEFINITIONS } from './sources';
import { positiveInt } from './settings';
import { DEFAULT_SCHEMA_CHANGE_POLICY, SCHEMA_CHANGE_POLICIES, type SchemaChangePolicy } from './shared/types';

const confidence = z.coerce.number().gt(0).max(1);
/** A source's own threshold, or `off`: never for this source, whatever SCHEMA_AUTO_ACCEPT_CONFIDENCE says. */
const sourceConfidence = z.union([z.literal('off').transform(() => null), confidence]);

/**
 * The only reader of process.env. Everything is parsed and checked once at boot; a bad value stops the process
 * with a message naming the variable. Secrets (DATABASE_URL's password, API keys) have no default anywhere.
 */
const Env = z.object({
  /** Unset: `npm start` runs an embedded PostgreSQL under DATA_DIR. */
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  EMBEDDED_PG_PORT: positiveInt(54329, 65535),
  /** Unset: `npm start` runs a Temporal dev server (with its Web UI); other commands use localhost:7233. */
  TEMPORAL_ADDRESS: z.string().regex(/^[\w.-]+:\d+$/, 'must be host:port').optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('kasparro-etl'),
  TEMPORAL_UI_PORT: positiveInt(8233, 65535),
  /** Frontend (gRPC) port of the dev server `npm start` runs when TEMPORAL_ADDRESS is unset. */
  TEMPORAL_DEV_PORT: positiveInt(7233, 65535),
  /** A workflow bundle made by `npm run build:workflows` (the Docker image sets it); unset: bundle at start. */
  TEMPORAL_WORKFLOW_BUNDLE: z.string().min(1).optional(),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: positiveInt(8080, 65535),
  /** When set, every POST requires it in X-API-Key. Secret: never logged, no default. */
  API_KEY: z.string().trim().min(16, 'must be at least 16 characters').optional(),
  /** How long GET /data totals and GET /stats may be reused, in ms (0: never). */
  API_READ_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(2_000),
  /** Where links to runs point; default: the dev server's UI on TEMPORAL_UI_PORT. */
  TEMPORAL_WEB_UI_URL: z.url().optional(),
  /** `npm start -- --demo`: the built-in market simulator stands in for CoinGecko and CoinPaprika. */
  SIMULATOR_PORT: positiveInt(4010, 65535),
  SIMULATOR_COINS: positiveInt(3000, 1_000_000),
  /** Records per batch: one fetch activity and one load transaction each. */
  ETL_BATCH_SIZE: positiveInt(2000, 50_000),
  ETL_FAIL_AFTER_N_RECORDS: z.coerce.number().int().min(0).optional(),
  ETL_FAIL_MODE: z.enum(['once', 'fatal']).default('once'),
  /** What a load does when its upstream changed shape (README, "Schema drift"): per source with a _<SOURCE> suffix. */
  SCHEMA_CHANGE_POLICY: z.enum(SCHEMA_CHANGE_POLICIES).default(DEFAULT_SCHEMA_CHANGE_POLICY.policy),
  /** Accept a suggested rename by itself at this confidence or above; unset: never (an operator decides). */
  SCHEMA_AUTO_ACCEPT_CONFIDENCE: confidence.optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: z.stringbool().optional(),
  /** Where built or fetched Temporal binaries are cached, outside the repository. */
  KASPARRO_CACHE_DIR: z.string().min(1).optional(),
  XDG_CACHE_HOME: z.string().min(1).optional(),
  TEMPORAL_CLI_PATH: z.string().min(1).optional(),
  TEMPORAL_TEST_SERVER_PATH: z.string().min(1).optional(),
  /** Searched for `temporal`, `go`, `mvn` and `java` when provisioning Temporal binaries. */
  PATH: z.string().default(''),
});

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  embeddedPostgresPort: number;
  temporal: {
    address: string | undefined;
    namespace: string;
    taskQueue: string;
    uiPort: number;
    devPort: number;
    workflowBundle: string | undefined;
  };
  simulator: { port: number; coins: number };
  api: { host: string; port: number; apiKey: string | undefined; webUiUrl: string; readCacheMs: number };
  etl: { batchSize: number; failAfterRecords: number | undefined; failMode: 'once' | 'fatal' };
  log: { level: string; pretty: boolean | undefined };
  binaries: { cacheDir: string; temporalCli: string | undefined; testServer: string | undefined; searchPath: string };
  /** Parsed settings of each source, by source name. */
  sources: Readonly<Record<string, unknown>>;
  /** How each source's loads treat a change of its upstream's shape, by source name. */
  schemaChanges: Readonly<Record<string, SchemaChangePolicy>>;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type EnvInput = Record<string, string | undefined>;

/** `overrides` win over the environment: how `npm start -- --demo` points the sources at the simulator. */
export function loadConfig(env: EnvInput = process.env, overrides: EnvInput = {}): Readonly<Config> {
  // An empty variable means "unset": compose files and shells produce them easily.
  const vars = Object.fromEntries(Object.entries({ ...env, ...overrides }).filter(([, v]) => v !== undefined && v !== ''));
  const problems: string[] = [];
  const base = Env.safeParse(vars);
  if (!base.success) problems.push(z.prettifyError(base.error));
  const sources: Record<string, unknown> = {};
  const perSource: Record<string, PerSource> = {};
  for (const definition of SOURCE_DEFINITIONS) {
    const parsed = (definition.settings as z.ZodType).safeParse(vars);
    if (parsed.success) sources[definition.name] = parsed.data;
    else problems.push(z.prettifyError(parsed.error));
    const suffix = definition.name.toUpperCase();
    const policy = PerSourcePolicy(suffix).safeParse(vars);
    if (policy.success) perSource[definition.name] = policy.data;
    else problems.push(z.prettifyError(policy.error));
  }
  if (!base.success || problems.length > 0) {
    throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
  }
  const e = base.data;
  return deepFreeze({
    databaseUrl: e.DATABASE_URL,
    dataDir: resolve(e.DATA_DIR),
    embeddedPostgresPort: e.EMBEDDED_PG_PORT,
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TEMPORAL_TASK_QUEUE,
      uiPort: e.TEMPORAL_UI_PORT,
      devPort: e.TEMPORAL_DEV_PORT,
      workflowBundle: e.TEMPORAL_WORKFLOW_BUNDLE,
    },
    simulator: { port: e.SIMULATOR_PORT, coins: e.SIMULATOR_COINS },
    api: {
      host: e.API_HOST,
      port: e.API_PORT,
      apiKey: e.API_KEY,
      readCacheMs: e.API_READ_CACHE_MS,
      webUiUrl: (e.TEMPORAL_WEB_UI_URL ?? `http://127.0.0.1:${e.TEMPORAL_UI_PORT}`).replace(/\/$/, ''),
    },
    etl: { batchSize: e.ETL_BATCH_SIZE, failAfterRecords: e.ETL_FAIL_AFTER_N_RECORDS, failMode: e.ETL_FAIL_MODE },
    log: { level: e.LOG_LEVEL, pretty: e.LOG_PRETTY },
    binaries: {
      cacheDir: e.KASPARRO_CACHE_DIR ?? join(e.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kasparro-etl'),
      temporalCli: e.TEMPORAL_CLI_PATH,
      testServer: e.TEMPORAL_TEST_SERVER_PATH,
      searchPath: e.PATH,
    },
    sources,
    schemaChanges: Object.fromEntries(
      Object.entries(perSource).map(([name, p]) => [
        name,
        {
          policy: p.policy ?? e.SCHEMA_CHANGE_POLICY,
          autoAcceptAt: p.autoAcceptAt === null ? undefined : (p.autoAcceptAt ?? e.SCHEMA_AUTO_ACCEPT_CONFIDENCE),
        },
      ]),
    ),
  });
}

/** One source's overrides of the defaults; autoAcceptAt null: `off`. */
type PerSource = { policy?: SchemaChangePolicy['policy'] | undefined; autoAcceptAt?: number | null | undefined };

/** SCHEMA_CHANGE_POLICY_<SOURCE> and SCHEMA_AUTO_ACCEPT_CONFIDENCE_<SOURCE>: one source's overrides of the defaults. */
const PerSourcePolicy = (suffix: string) =>
  z
    .object({
      [`SCHEMA_CHANGE_POLICY_${suffix}`]: z.enum(SCHEMA_CHANGE_POLICIES).optional(),
      [`SCHEMA_AUTO_ACCEPT_CONFIDENCE_${suffix}`]: sourceConfidence.optional(),
    })
    .transform((v): PerSource => ({
      policy: v[`SCHEMA_CHANGE_POLICY_${suffix}`] as SchemaChangePolicy['policy'] | undefined,
      autoAcceptAt: v[`SCHEMA_AUTO_ACCEPT_CONFIDENCE_${suffix}`] as number | null | undefined,
    }));

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { loadConfig } from '../../src/config';
import { SOURCE_KEY } from '../../src/shared/search-attributes';
import { WORKFLOWS_PATH } from '../../src/temporal/worker';

// Expected failures (injected faults, 429s) would otherwise fill the output with the worker's warnings.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
});

/**
 * Binaries provisioned by `npm test` (scripts/test.ts). Where it could neither find nor build them, the SDK's
 * own cached download is the last resort (it needs internet access).
 */
function executable(path: string | undefined) {
  return path ? { type: 'existing-path' as const, path } : { type: 'cached-download' as const };
}

/**
 * The SDK gives the spawned JVM 5 s to listen. The wrapper makes that about 1 s even on two loaded cores; a
 * second attempt (page cache now warm) covers a machine busier still, and the error says so if both miss.
 */
export async function timeSkippingEnvironment(attempts = 2): Promise<TestWorkflowEnvironment> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await TestWorkflowEnvironment.createTimeSkipping({
        server: { executable: executable(loadConfig().binaries.testServer) },
      });
    } catch (err) {
      if (attempt >= attempts || !/did not start within/.test(String(err))) throw err;
    }
  }
}

/**
 * A real Temporal dev server (the CLI), with the search attribute the Web UI filters on. The SDK starts it
 * without the Web UI unless given a `uiPort`.
 */
export function devServerEnvironment(options: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: executable(loadConfig().binaries.temporalCli),
      searchAttributes: [SOURCE_KEY],
      ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
    },
  });
}

/** Bundling takes seconds: once per test file. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never });
}

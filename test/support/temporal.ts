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

/** Binaries provisioned by `npm test` (scripts/test.ts): never downloaded at run time. */
function binaries() {
  const { temporalCli, testServer } = loadConfig().binaries;
  if (!temporalCli || !testServer) throw new Error('Temporal binaries not provisioned: run the suite with `npm test`');
  return { temporalCli, testServer };
}

export function timeSkippingEnvironment(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: binaries().testServer } },
  });
}

/** A real Temporal dev server (the CLI), with the search attribute the Web UI filters on. */
export function devServerEnvironment(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: binaries().temporalCli },
      searchAttributes: [SOURCE_KEY],
    },
  });
}

/** Bundling takes seconds: once per test file. */
export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never });
}

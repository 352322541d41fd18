import { createLogger } from '../../src/logger';

/** Tests assert on data, not on log lines: keep them quiet. */
export const testLogger = createLogger({ level: 'silent', pretty: false });

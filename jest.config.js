/**
 * Tests are transformed by SWC (it ships with @temporalio/worker): fast, and free of ts-jest's TypeScript pin.
 * PostgreSQL and the Temporal binaries are provisioned by scripts/test.ts before jest starts (see README).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.[tj]s$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }] },
  // ky ships ESM only; SWC turns it into CommonJS for jest.
  transformIgnorePatterns: ['/node_modules/(?!ky/)'],
  testTimeout: 120_000,
};

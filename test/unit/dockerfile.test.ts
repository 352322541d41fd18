/**
 * No Docker engine runs here, so the image's runtime stage is checked by what it must contain: every module the
 * entry point can load (esbuild follows the imports, as Node will) and every file read at run time lies in what
 * the stage copies.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import { MIGRATIONS_DIR } from '../../src/db/migrate';

const ROOT = join(__dirname, '..', '..');
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
/** The runtime stage: everything after the last FROM. */
const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

/** The paths the runtime stage copies from the build context (COPY --from=… comes from the build stage). */
function copiedFromContext(): string[] {
  return [...runtime.matchAll(/^COPY\s+(?!--from)(.+)$/gm)].flatMap((m) => {
    const parts = (m[1] as string).trim().split(/\s+/);
    return parts.slice(0, -1).map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''));
  });
}

const copied = (path: string) => copiedFromContext().some((c) => path === c || path.startsWith(`${c}/`));

/** The `src/bin/cli.ts …` commands of CMD and HEALTHCHECK, as written. */
function entryPoints(): string[] {
  return [...runtime.matchAll(/"(src\/[^"]+\.ts)"/g)].map((m) => m[1] as string);
}

test('When the image runs its commands, then every module they import was copied into the runtime stage', async () => {
  const entries = entryPoints();
  expect(entries).toContain('src/bin/cli.ts');
  const { metafile } = await build({
    absWorkingDir: ROOT,
    entryPoints: entries,
    bundle: true,
    platform: 'node',
    packages: 'external', // node_modules come from `npm ci --omit=dev` in the stage itself
    metafile: true,
    write: false,
    outdir: 'unused',
    logLevel: 'silent',
  });
  const modules = Object.keys(metafile.inputs);
  expect(modules.some((m) => m.startsWith('api/'))).toBe(true); // the API is part of the graph
  expect(modules.filter((m) => !copied(m))).toEqual([]);

  // Packages come from `npm ci --omit=dev`: each one imported must be a production dependency, tsx included.
  const { dependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const externals = Object.entries(metafile.inputs).flatMap(([from, input]) =>
    input.imports.filter((i) => i.external).map((i) => ({ from, path: i.path })),
  );
  // Paths only resolved at run time (the workflows' folder for the bundler) must have been copied too.
  const resolvedAtRunTime = externals.filter((e) => e.path.startsWith('.')).map((e) => join(dirname(e.from), e.path));
  expect(resolvedAtRunTime.filter((path) => !copied(path))).toEqual([]);
  const packages = new Set(
    externals
      .map((e) => e.path)
      .filter((path) => !path.startsWith('.') && !path.startsWith('node:') && !builtinModules.includes(path.split('/')[0] as string))
      .map((path) => (path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : (path.split('/')[0] as string))),
  );
  expect(packages.size).toBeGreaterThan(5);
  expect([...packages, 'tsx'].filter((p) => !(p in dependencies))).toEqual([]);
});

test('When the image is built, then the context leaves out node_modules, local state and secrets', () => {
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim());
  for (const path of ['node_modules', '.data', '.env', '.git']) expect(ignored).toContain(path);
});

test('When the image starts, then the files read at run time are there: migrations, the default CSV, the workflow bundle', () => {
  expect(copied(relative(ROOT, MIGRATIONS_DIR))).toBe(true);
  expect(copied('data/coins.csv')).toBe(true); // CSV_PATH's default
  expect(copied('tsconfig.json')).toBe(true);
  // Workers load the bundle made in the build stage, not workflows/ compiled at start-up.
  expect(runtime).toMatch(/TEMPORAL_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
  expect(runtime).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
});

test('When the runtime stage installs dependencies, then it leaves the dev ones out and runs as a non-root user', () => {
  expect(runtime).toMatch(/npm ci --omit=dev/);
  expect(runtime).toMatch(/^USER node$/m);
  expect(runtime).toMatch(/^HEALTHCHECK /m);
});

test('When a stage installs dependencies, then patches/ is copied first, so npm ci applies the driver patch', () => {
  for (const stage of dockerfile.split(/\nFROM /).slice(1)) {
    const install = stage.search(/^RUN npm ci/m);
    expect(install).toBeGreaterThan(0);
    expect(stage.slice(0, install)).toMatch(/^COPY patches \.\/patches$/m);
  }
});

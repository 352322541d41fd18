/**
 * deploy/ checked without a cluster: every environment variable the manifests set is one src/config.ts reads,
 * with values it accepts; secrets only ever come from the Secret by reference; pods keep the hardening
 * docs/deploy.md describes; containers run commands the CLI has. `kustomize build deploy/k8s` checks that the
 * pieces assemble (docs/deploy.md, "Validating the manifests").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
// In node_modules through @asteasolutions/zod-to-openapi (openapi3-ts); the project does not declare it.
import { parseAllDocuments } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config';

const ROOT = join(__dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const SECRET_NAME = 'kasparro-etl';
/** Variables whose values are credentials: they may only come from the Secret. */
const SECRET_VARIABLE = /^DATABASE_URL$|(^|_)(API_KEY|PASSWORD|SECRET|TOKEN)$/;

type Obj = Record<string, unknown>;
interface Manifest {
  file: string;
  value: Obj;
}
interface Container {
  file: string;
  name: string;
  command: string[];
  env: { name: string; value?: unknown; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }[];
  securityContext?: Obj;
  resources?: { requests?: Obj; limits?: Obj };
  volumeMounts?: { name: string; mountPath: string }[];
  image: string;
}

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const rel = (file: string) => relative(ROOT, file);

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

function parseYaml(text: string, file: string): Manifest[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${rel(file)}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    return isObj(value) ? [{ file, value }] : [];
  });
}

/** KEY=VALUE lines of a kustomize env file or `literals`, comments and blank lines skipped. */
function keyValues(lines: string[]): Record<string, string> {
  const pairs = lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  return Object.fromEntries(pairs.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

const files = filesUnder(DEPLOY);
const manifests = files.filter((f) => /\.ya?ml$/.test(f)).flatMap((f) => parseYaml(readFileSync(f, 'utf8'), f));
const kustomizations = manifests.filter((m) => m.value.kind === 'Kustomization' || m.value.kind === 'Component');
/** Inline patches are manifests too: what they set counts like the rest. */
const patches = kustomizations.flatMap((k) =>
  ((k.value.patches as { patch?: string }[] | undefined) ?? []).flatMap((p) => (p.patch ? parseYaml(p.patch, k.file) : [])),
);
const objects = [...manifests.filter((m) => !kustomizations.includes(m)), ...patches];

/** Each configMapGenerator's variables, by the kustomization that declares it. */
const generated = kustomizations.flatMap((k) =>
  ((k.value.configMapGenerator as { behavior?: string; envs?: string[]; literals?: string[] }[] | undefined) ?? []).map((g) => ({
    file: k.file,
    behavior: g.behavior ?? 'create',
    vars: {
      ...keyValues((g.envs ?? []).flatMap((env) => readFileSync(join(dirname(k.file), env), 'utf8').split('\n'))),
      ...keyValues(g.literals ?? []),
    },
  })),
);
const configMapVars = [
  ...generated.flatMap((g) => Object.keys(g.vars).map((name) => ({ name, file: g.file }))),
  ...objects.filter((o) => o.value.kind === 'ConfigMap').flatMap((o) => Object.keys((o.value.data as Obj | undefined) ?? {}).map((name) => ({ name, file: o.file }))),
];

function containersOf(value: unknown, file: string): Container[] {
  if (Array.isArray(value)) return value.flatMap((v) => containersOf(v, file));
  if (!isObj(value)) return [];
  const own = ['containers', 'initContainers'].flatMap((key) => (Array.isArray(value[key]) ? (value[key] as Obj[]) : []));
  const here = own.map((c) => ({ env: [], command: [], ...c, file }) as unknown as Container);
  return [...here, ...Object.values(value).flatMap((v) => containersOf(v, file))];
}
const containers = objects.flatMap((o) => containersOf(o.value, o.file));
const envEntries = containers.flatMap((c) => c.env.map((e) => ({ ...e, file: c.file, container: c.name })));

/** Pod specs of the workloads (Deployments, Jobs): what the hardening promises are about. */
const podSpecs = objects
  .filter((o) => ['Deployment', 'Job'].includes(String(o.value.kind)))
  .map((o) => ({ file: o.file, kind: String(o.value.kind), name: String((o.value.metadata as Obj).name), spec: (o.value.spec as { template: { spec: Obj } }).template.spec }));

/**
 * Whether src/config.ts reads `name`: setting it, to some probe value, either changes the parsed configuration
 * or fails validation with a message naming it. A variable nobody reads is stripped by the schema: it can do
 * neither. This asks the code itself, so it holds however the schemas are written.
 */
const PROBES = ['probe-value', '12345', 'probe.invalid:7233', 'https://probe.invalid', 'postgres://probe.invalid/db', 'true', 'fatal', 'pro', 'debug', '7m'];
const defaults = loadConfig({});
function configReads(name: string): boolean {
  return PROBES.some((probe) => {
    try {
      return !isDeepStrictEqual(loadConfig({ [name]: probe }), defaults);
    } catch (err) {
      return err instanceof ConfigError && err.message.includes(name);
    }
  });
}

describe('deploy/ manifests', () => {
  test('When deploy/ is read, then it holds the kustomize base, its overlays and the Temporal Helm values', () => {
    const names = files.map(rel);
    expect(names).toEqual(expect.arrayContaining(['deploy/k8s/kustomization.yaml', 'deploy/k8s/base/kustomization.yaml', 'deploy/temporal/values.yaml']));
    expect(podSpecs.map((p) => p.name).sort()).toEqual(['kasparro-etl-api', 'kasparro-etl-init', 'kasparro-etl-worker']);
  });

  test('When a manifest sets an environment variable, then src/config.ts reads it', () => {
    const names = [...new Set([...envEntries.map((e) => e.name), ...configMapVars.map((v) => v.name)])];
    expect(names.length).toBeGreaterThan(15);
    expect(names.filter((name) => !configReads(name))).toEqual([]);
  });

  test('When the probe asks about a variable nothing reads, then it says so', () => {
    expect(configReads('NODE_ENV')).toBe(false);
    expect(configReads('TEMPORAL_TLS_CERT')).toBe(false);
    expect(configReads('TEMPORAL_TASK_QUEUE')).toBe(true);
  });

  test('When the generated ConfigMap is loaded, in the base and in every overlay, then src/config.ts accepts every value', () => {
    const base = generated.find((g) => g.behavior === 'create');
    expect(base).toBeDefined();
    const variants = [base!.vars, ...generated.filter((g) => g.behavior === 'merge').map((g) => ({ ...base!.vars, ...g.vars }))];
    for (const vars of variants) {
      const config = loadConfig({ ...vars, DATABASE_URL: 'postgres://db.invalid:5432/kasparro' });
      expect(config.temporal.address).toBe(vars.TEMPORAL_ADDRESS);
      expect(config.api.host).toBe('0.0.0.0');
      expect(config.log.pretty).toBe(false);
    }
  });

  test('When a variable holds a credential, then it comes from the Secret by reference, never as a value', () => {
    const secretEntries = envEntries.filter((e) => SECRET_VARIABLE.test(e.name));
    expect(secretEntries.map((e) => e.name)).toEqual(expect.arrayContaining(['DATABASE_URL', 'API_KEY', 'COINGECKO_API_KEY', 'COINPAPRIKA_API_KEY']));
    for (const entry of secretEntries) {
      expect({ ...entry, value: entry.value }).toMatchObject({ value: undefined, valueFrom: { secretKeyRef: { name: SECRET_NAME, key: entry.name } } });
    }
    expect(configMapVars.filter((v) => SECRET_VARIABLE.test(v.name))).toEqual([]);
  });

  test('When deploy/ is searched, then it holds no Secret, no secretGenerator and nothing that looks like a credential', () => {
    expect(objects.filter((o) => o.value.kind === 'Secret').map((o) => rel(o.file))).toEqual([]);
    expect(kustomizations.filter((k) => 'secretGenerator' in k.value).map((k) => rel(k.file))).toEqual([]);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      expect({ file: rel(file), userinfo: /[a-z][\w+.-]*:\/\/[^\s/:@'"]+:[^\s/@'"]+@/i.test(text), pem: text.includes('-----BEGIN') }).toEqual({
        file: rel(file),
        userinfo: false,
        pem: false,
      });
    }
    const credentialKeys: string[] = [];
    const walk = (value: unknown, path: string): void => {
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
      else if (isObj(value)) {
        for (const [key, v] of Object.entries(value)) {
          if (/^(password|passwd|api[-_]?key|token|secret|client[-_]?secret)$/i.test(key) && typeof v === 'string' && v !== '') credentialKeys.push(`${path}.${key}`);
          walk(v, `${path}.${key}`);
        }
      }
    };
    manifests.forEach((m) => walk(m.value, rel(m.file)));
    expect(credentialKeys).toEqual([]);
  });

  test('When a container reads the Secret, then only DATABASE_URL is required and docs/deploy.md shows how to create every key', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'deploy.md'), 'utf8');
    const refs = envEntries.flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []));
    expect([...new Set(refs.filter((r) => !r.optional).map((r) => r.key))]).toEqual(['DATABASE_URL']);
    expect([...new Set(refs.map((r) => r.key))].filter((key) => !doc.includes(`--from-literal=${key}=`))).toEqual([]);
  });

  test('When a container runs the CLI, then it runs a command src/bin/cli.ts has', () => {
    const cli = readFileSync(join(ROOT, 'src', 'bin', 'cli.ts'), 'utf8');
    const commands = new Set([...cli.matchAll(/case '(\w+)':/g)].map((m) => m[1]));
    expect(commands.has('worker')).toBe(true);
    const run = containers.map((c) => ({ container: c.name, command: c.command[c.command.indexOf('src/bin/cli.ts') + 1] }));
    expect(run.length).toBeGreaterThan(0);
    for (const { container, command } of run) expect({ container, known: commands.has(command ?? '') }).toEqual({ container, known: true });
    expect(containers.every((c) => c.image === 'kasparro-etl')).toBe(true);
  });

  test('When a pod runs, then it is non-root with a read-only root filesystem, a writable /tmp and bounded resources', () => {
    for (const pod of podSpecs) {
      const ctx = pod.spec.securityContext as Obj;
      expect({ pod: pod.name, runAsNonRoot: ctx.runAsNonRoot, numericUser: typeof ctx.runAsUser === 'number' && ctx.runAsUser > 0 }).toEqual({
        pod: pod.name,
        runAsNonRoot: true,
        numericUser: true,
      });
      expect(pod.spec.automountServiceAccountToken).toBe(false);
      expect(pod.spec.enableServiceLinks).toBe(false);
      const tmp = (pod.spec.volumes as { name: string; emptyDir?: Obj }[]).find((v) => v.emptyDir);
      for (const c of containersOf(pod.spec, pod.file)) {
        expect({ container: c.name, ...c.securityContext }).toMatchObject({
          container: c.name,
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.resources?.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
        expect(c.resources?.limits).toMatchObject({ memory: expect.anything() });
        // tsx keeps its transform cache in the temp directory and hangs at start without a writable one.
        expect(c.volumeMounts).toContainEqual({ name: tmp?.name, mountPath: '/tmp' });
      }
    }
  });

  test('When a worker is stopped, then Kubernetes waits longer than the shutdown guard of src/bin/signals.ts', () => {
    const signals = readFileSync(join(ROOT, 'src', 'bin', 'signals.ts'), 'utf8');
    const guardMs = Number(/graceMs = ([\d_]+)/.exec(signals)?.[1]?.replaceAll('_', ''));
    expect(guardMs).toBeGreaterThan(0);
    const worker = podSpecs.find((p) => p.name === 'kasparro-etl-worker');
    expect(Number(worker?.spec.terminationGracePeriodSeconds) * 1000).toBeGreaterThan(guardMs);
  });

  test('When the pieces name Temporal, then config.env, the Helm values and the KEDA trigger agree', () => {
    const base = generated.find((g) => g.behavior === 'create')!.vars;
    const values = manifests.find((m) => rel(m.file) === 'deploy/temporal/values.yaml')!.value as {
      server: { config: { persistence: { datastores: Record<string, { sql: Obj }> }; namespaces: { namespace: { name: string }[] } } };
    };
    expect(values.server.config.namespaces.namespace.map((n) => n.name)).toContain(base.TEMPORAL_NAMESPACE);
    for (const store of Object.values(values.server.config.persistence.datastores)) {
      expect(store.sql).toMatchObject({ existingSecret: expect.any(String), pluginName: 'postgres12' });
      expect(store.sql).not.toHaveProperty('password');
    }
    const trigger = objects.find((o) => o.value.kind === 'ScaledObject')!.value as { spec: { triggers: { metadata: Obj }[] } };
    expect(trigger.spec.triggers[0]?.metadata).toMatchObject({
      endpoint: base.TEMPORAL_ADDRESS,
      namespace: base.TEMPORAL_NAMESPACE,
      taskQueue: base.TEMPORAL_TASK_QUEUE,
    });
  });
});

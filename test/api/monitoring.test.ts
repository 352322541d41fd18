/**
 * deploy/monitoring against promtool and the real app: the alert rules load and pass their promtool unit tests
 * (kasparro-etl.rules.test.yml), the dashboard's queries parse, and every metric, label and label value that the
 * rules and the dashboard name is one a real app's /metrics exports (over real PostgreSQL and Temporal).
 * promtool is built with Go once into the cache outside the repo (test/support/promtool.ts); without Go the
 * promtool tests fail, naming it.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import request from 'supertest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { RUN_STATUSES } from '../../src/shared/types';
import { SOURCE_NAMES } from '../../src/sources';
import { createApiContext, type ApiContext } from '../support/api';
import { ingest } from '../support/ingest';
import { REPO_ROOT } from '../support/processes';
import { cachedPromtool, findPromtool, PROMETHEUS_VERSION } from '../support/promtool';
import { sampleNames, samples, selectors, type Selector } from '../support/promql';

const run = promisify(execFile);
const DIR = join(REPO_ROOT, 'deploy', 'monitoring');
const RULES = join(DIR, 'kasparro-etl.rules.yml');
const RULE_TESTS = join(DIR, 'kasparro-etl.rules.test.yml');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Target {
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: Target[];
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { uid?: string };
}
interface Dashboard {
  panels: Panel[];
  templating: { list: Variable[] };
}
interface AlertTest {
  alertname: string;
  exp_alerts: unknown[];
}

const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => Boolean(r.alert));
const dashboard = JSON.parse(readFileSync(join(DIR, 'kasparro-etl.dashboard.json'), 'utf8')) as Dashboard;
const queried = dashboard.panels.filter((p) => p.targets?.length);
const variableQuery = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query.query);
const queryVariables = dashboard.templating.list.filter((v) => v.type === 'query');

/** A dashboard query as Prometheus would get it from Grafana (values of the variables are made up). */
const asPromql = (expr: string) => expr.replace(/\$__(rate_interval|interval|range)/g, '5m').replace(/\$\{?\w+\}?/g, '.*');

/** `label_values(selector, label)`: its selector and the label it lists. */
function labelValues(query: string): { selector: string; label: string } {
  const match = /^label_values\((.+),\s*(\w+)\)$/.exec(query.trim());
  if (!match?.[1] || !match[2]) throw new Error(`not a label_values() query: ${query}`);
  return { selector: match[1], label: match[2] };
}

/** Labels Prometheus adds at scrape time (target labels): the app cannot export them. */
const TARGET_LABELS = new Set(['job', 'instance', 'namespace']);

let ctx: ApiContext;
let exposition: string;

beforeAll(async () => {
  ctx = await createApiContext({ coins: 120 });
  await ingest(ctx.db.sql, ctx.sources, 'coingecko'); // a finished run: the run and duration series have samples
  await request(ctx.app).get('/data').expect(200);
  await request(ctx.app).get('/health').expect(503); // no worker polls the context's queue: a /health 503
  exposition = (await request(ctx.app).get('/metrics').expect(200)).text;
}, 5 * 60_000);
afterAll(async () => {
  await ctx?.close();
});

let promtoolFound: Promise<string> | undefined;
/** promtool, built on first use (jest runs one test at a time, so the first promtool test pays). */
function promtool(): Promise<string> {
  const config = loadConfig();
  promtoolFound ??= findPromtool(config, createLogger({ level: 'info', name: 'monitoring-test' })).then((found) => {
    if (found) return found;
    throw new Error(
      `promtool ${PROMETHEUS_VERSION} is not at ${cachedPromtool(config)} and Go is not installed to build it: ` +
        'install Go (https://go.dev/dl/) or set PROMTOOL_PATH',
    );
  });
  return promtoolFound;
}

async function runPromtool(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(await promtool(), args, { cwd: DIR, maxBuffer: 16 * 1024 * 1024 });
    return stdout + stderr;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${stdout}${stderr}`, { cause: err });
  }
}

describe('promtool', () => {
  test('When promtool checks the rules, then every rule loads and lints clean', async () => {
    const out = await runPromtool(['check', 'rules', RULES]);
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
  }, 30 * 60_000);

  test("When promtool runs the rules' unit tests, then each passes", async () => {
    expect(await runPromtool(['test', 'rules', RULE_TESTS])).toContain('SUCCESS');
  });

  test('When the unit tests are read, then each alert is tested both firing and not firing', () => {
    const cases = (parse(readFileSync(RULE_TESTS, 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] }).tests.flatMap(
      (t) => t.alert_rule_test ?? [],
    );
    for (const alert of new Set(alerts.map((a) => a.alert))) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect({ alert, fires: mine.some((c) => c.exp_alerts.length > 0) }).toEqual({ alert, fires: true });
      expect({ alert, quiet: mine.some((c) => c.exp_alerts.length === 0) }).toEqual({ alert, quiet: true });
    }
  });

  test("When the dashboard's queries are given to promtool, then each parses", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dashboard-queries-'));
    try {
      const records = [
        ...queried.flatMap((p) => (p.targets ?? []).map((t, i) => ({ record: `dashboard_panel_${p.id}_${i}`, expr: asPromql(t.expr) }))),
        ...queryVariables.map((v) => ({ record: `dashboard_variable_${v.name}`, expr: asPromql(labelValues(variableQuery(v)).selector) })),
      ];
      const file = join(dir, 'dashboard.rules.yml');
      await writeFile(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: records }] }));
      expect(await runPromtool(['check', 'rules', file])).toContain(`SUCCESS: ${records.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the rules', () => {
  test('When an alert is read, then it has for, a severity, a summary, a description and a runbook that exists', () => {
    for (const rule of alerts) {
      expect({ alert: rule.alert, for: rule.for }).toEqual({ alert: rule.alert, for: expect.stringMatching(/^\d+[smh]$/) });
      expect([rule.alert, rule.labels?.severity]).toEqual([rule.alert, expect.stringMatching(/^(warning|critical)$/)]);
      expect(rule.annotations).toEqual(
        expect.objectContaining({ summary: expect.any(String), description: expect.any(String), runbook_url: expect.any(String) }),
      );
      const [file = '', anchor = ''] = (rule.annotations?.runbook_url ?? '').split('#');
      const slugs = [...readFileSync(join(REPO_ROOT, file), 'utf8').matchAll(/^#+ (.+)$/gm)].map(([, heading = '']) =>
        heading.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-'),
      );
      expect([rule.alert, anchor, slugs.includes(anchor)]).toEqual([rule.alert, anchor, true]);
    }
  });
});

describe('the dashboard', () => {
  test('When it is imported, then it asks for a Prometheus data source and every query uses it', () => {
    expect(dashboard.templating.list[0]).toMatchObject({ name: 'datasource', type: 'datasource', query: 'prometheus' });
    const uses = [...queried, ...queried.flatMap((p) => p.targets ?? []), ...queryVariables].map((x) => x.datasource?.uid);
    expect(new Set(uses)).toEqual(new Set(['${datasource}']));
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  test('When its panels are listed, then runs, records, durations, HTTP latency p50 and p99 and open changes are there', () => {
    const exprs = queried.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of ['kasparro_runs{', 'kasparro_records_processed_total{', 'kasparro_run_duration_seconds_bucket{',
      'kasparro_schema_changes_open{']) expect(exprs).toContain(metric);
    expect(exprs).toMatch(/histogram_quantile\(0\.5, sum by \(route, le\) \(rate\(kasparro_http_request_duration_seconds_bucket/);
    expect(exprs).toMatch(/histogram_quantile\(0\.99, sum by \(route, le\) \(rate\(kasparro_http_request_duration_seconds_bucket/);
  });
});

describe('what the rules and the dashboard name', () => {
  const used: { where: string; selector: Selector }[] = [
    ...rules.flatMap((r) => selectors(r.expr).map((selector) => ({ where: `rule ${r.alert ?? r.record}`, selector }))),
    ...queried.flatMap((p) => (p.targets ?? []).flatMap((t) => selectors(t.expr).map((selector) => ({ where: `panel ${p.title}`, selector })))),
    ...queryVariables.map((v) => {
      const { selector, label } = labelValues(variableQuery(v));
      const [parsed] = selectors(selector);
      if (!parsed) throw new Error(`variable ${v.name}: no selector`);
      return { where: `variable ${v.name}`, selector: { ...parsed, matchers: [...parsed.matchers, { label, op: 'list', value: '' }] } };
    }),
  ];

  test('When the expressions are read, then the selectors are found (a check of the reader itself)', () => {
    expect(selectors('sum by (le) (rate(a_bucket{x="1", y=~"$v"}[$__rate_interval])) / ignoring(z) b offset 5m > bool 1 and on (q) max(c)'))
      .toEqual([
        { metric: 'a_bucket', matchers: [{ label: 'x', op: '=', value: '1' }, { label: 'y', op: '=~', value: '$v' }] },
        { metric: 'b', matchers: [] },
        { metric: 'c', matchers: [] },
      ]);
    expect(used.length).toBeGreaterThan(alerts.length + queried.length);
  });

  test('When the scrape is read, then its # TYPE lines account for every sample name in it', () => {
    const names = sampleNames(exposition);
    expect(names.has('kasparro_run_duration_seconds')).toBe(false); // a histogram has no bare series
    expect(names.has('kasparro_run_duration_seconds_bucket')).toBe(true);
    expect(names.has('kasparro_records_processed_total')).toBe(true); // prom-client keeps _total in the name
    expect(samples(exposition).map((s) => s.name).filter((name) => !names.has(name))).toEqual([]);
  });

  test("When every metric named is looked up in a real app's /metrics, then the app exports it", () => {
    const names = sampleNames(exposition);
    const missing = used.filter((u) => !names.has(u.selector.metric)).map((u) => `${u.where}: ${u.selector.metric}`);
    expect(missing).toEqual([]);
  });

  test("When every label matched on is looked up in the app's samples, then the metric carries it, with that value", () => {
    const scraped = samples(exposition);
    /** Values a closed set allows that one scrape need not show (no run has failed here). */
    const allowed: Record<string, readonly string[]> = { status: RUN_STATUSES, source: SOURCE_NAMES };
    const wrong: string[] = [];
    for (const { where, selector } of used) {
      const mine = scraped.filter((s) => s.name === selector.metric);
      for (const m of selector.matchers.filter((x) => !TARGET_LABELS.has(x.label))) {
        const values = new Set(mine.map((s) => s.labels[m.label]).filter((v): v is string => v !== undefined));
        if (values.size === 0) wrong.push(`${where}: ${selector.metric} has no label ${m.label}`);
        else if (m.op === '=' && !values.has(m.value) && !allowed[m.label]?.includes(m.value)) {
          wrong.push(`${where}: ${selector.metric}{${m.label}="${m.value}"} is not exported (values: ${[...values].join(', ')})`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test('When the run-duration histogram is queried, then never through rate(): it is rebuilt at every scrape', () => {
    const exprs = [...rules.map((r) => r.expr), ...queried.flatMap((p) => (p.targets ?? []).map((t) => t.expr))];
    expect(exprs.filter((e) => /(rate|increase)\(kasparro_run_duration_seconds/.test(e))).toEqual([]);
  });
});

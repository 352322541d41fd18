/**
 * Just enough PromQL and Prometheus text format to compare what deploy/monitoring queries with what /metrics
 * exports: the vector selectors of an expression, and the sample names and labels of a scrape.
 */

export interface Matcher {
  label: string;
  op: string;
  value: string;
}

export interface Selector {
  metric: string;
  matchers: Matcher[];
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
}

/** Keywords followed by a parenthesised list of label names, not of expressions. */
const LABEL_LISTS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set([...LABEL_LISTS, 'bool', 'offset', 'and', 'or', 'unless', 'atan2', 'inf', 'nan']);
/** Aggregations may put their `by (...)` before the parenthesis: `sum by (le) (x)`. */
const AGGREGATIONS = new Set(['sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk',
  'quantile', 'limitk', 'limit_ratio']);

const TOKEN =
  /\s+|#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|\$\{[^}]*\}|\$\w+|[A-Za-z_:][\w:]*|\d[\w.]*|=~|!~|!=|==|>=|<=|[{}()[\],=<>+\-*/%^@]/y;

interface Token {
  kind: 'name' | 'string' | 'other';
  text: string;
}

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < expr.length) {
    const at = TOKEN.lastIndex;
    const match = TOKEN.exec(expr);
    if (!match) throw new Error(`cannot read PromQL at ${at}: ${expr.slice(at, at + 30)}`);
    const text = match[0];
    if (/^\s|^#/.test(text)) continue;
    const kind = /^[A-Za-z_:]/.test(text) ? 'name' : /^["'`]/.test(text) ? 'string' : 'other';
    tokens.push({ kind, text });
  }
  return tokens;
}

/** The index after the token that closes the bracket opened at `open`. */
function closing(tokens: Token[], open: number): number {
  const pairs: Record<string, string> = { '(': ')', '[': ']', '{': '}' };
  const close = pairs[tokens[open]?.text ?? ''];
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    if (tokens[i]?.text === tokens[open]?.text) depth++;
    else if (tokens[i]?.text === close && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced ${tokens[open]?.text}`);
}

function readMatchers(tokens: Token[], open: number): { matchers: Matcher[]; next: number } {
  const next = closing(tokens, open);
  const matchers: Matcher[] = [];
  for (let i = open + 1; i < next - 1; i++) {
    const [label, op, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (label?.text === ',') continue;
    if (!label || !op || value?.kind !== 'string') throw new Error(`unreadable label matcher at ${label?.text}`);
    matchers.push({ label: label.text.replace(/^"|"$/g, ''), op: op.text, value: JSON.parse(`"${value.text.slice(1, -1)}"`) as string });
    i += 2;
  }
  return { matchers, next };
}

/** Every vector selector of a PromQL expression (Grafana's `$variables` may stand where values and ranges do). */
export function selectors(expr: string): Selector[] {
  const tokens = tokenize(expr);
  const found: Selector[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    const next = tokens[i + 1]?.text;
    if (token.text === '[') {
      i = closing(tokens, i) - 1;
    } else if (token.text === '{') {
      const { matchers, next: after } = readMatchers(tokens, i);
      const name = matchers.find((m) => m.label === '__name__' && m.op === '=');
      if (!name) throw new Error(`a selector without a metric name in ${expr}`);
      found.push({ metric: name.value, matchers: matchers.filter((m) => m !== name) });
      i = after - 1;
    } else if (token.kind === 'name') {
      if (LABEL_LISTS.has(token.text) && next === '(') i = closing(tokens, i + 1) - 1;
      else if (KEYWORDS.has(token.text) || AGGREGATIONS.has(token.text) || next === '(') continue;
      else if (next === '{') {
        const { matchers, next: after } = readMatchers(tokens, i + 1);
        found.push({ metric: token.text, matchers });
        i = after - 1;
      } else found.push({ metric: token.text, matchers: [] });
    }
  }
  return found;
}

/**
 * The sample names a scrape can hold, from its `# TYPE` lines: a histogram's `_bucket`, `_sum` and `_count`
 * (never its bare name), a summary's quantiles under its name plus `_sum` and `_count`, any other type its name
 * as written (prom-client writes a counter's `_total` into the name itself).
 */
export function sampleNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name = '', type] of exposition.matchAll(/^# TYPE (\S+) (\w+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  return names;
}

/** Every sample line of a scrape, with its labels. */
export function samples(exposition: string): Sample[] {
  const found: Sample[] = [];
  for (const line of exposition.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? \S+/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, label = '', value = ''] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[label] = value;
    found.push({ name: match[1] ?? '', labels });
  }
  return found;
}

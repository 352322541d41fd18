/** Durations in config ("30s", "5m", "1h", "1d"): parsed once here, used as milliseconds everywhere else. */
const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * (UNITS[match[2] as string] as number);
  return value > 0 ? value : undefined;
}

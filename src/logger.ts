import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON to stdout for machines, pretty in a terminal for people. Anything that looks like a secret is redacted,
 * wherever it appears in a logged object.
 */
export function createLogger(options: { level: string; pretty?: boolean; name?: string }): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  return pino({
    name: options.name ?? 'kasparro-etl',
    level: options.level,
    redact: {
      paths: ['*.apiKey', '*.password', '*.authorization', '*.Authorization', '*["x-cg-demo-api-key"]', '*["x-cg-pro-api-key"]'],
      censor: '[redacted]',
    },
    ...(pretty ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } } : {}),
  });
}

import { z } from 'zod';
import { parseDuration } from './shared/duration';

/** Env-variable schemas that several sources share, so each variable is parsed and documented one way. */

export const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration like 30s, 5m, 1h` });
        return z.NEVER;
      }
      return ms;
    });

export const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(1).max(max).default(fallback);

export const positiveNumber = (fallback: number) => z.coerce.number().positive().default(fallback);

/** A secret: optional, never defaulted, never logged (the logger redacts *_API_KEY). */
export const secret = () => z.string().trim().min(1).optional();

export const url = () => z.url({ protocol: /^https?$/ });

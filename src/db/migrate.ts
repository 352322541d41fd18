import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { rekeySymbols } from './assets';
import { lockIdentity } from './identity-lock';
import type { Db, Sql } from './sql';

export const MIGRATIONS_DIR = resolve(__dirname, '..', '..', 'sql');

/**
 * Steps SQL cannot express, in the same numbering as the files: a stored key recomputed by the code that
 * defines it, so the two can never disagree.
 */
const CODE_STEPS: Record<string, (tx: Db) => Promise<unknown>> = {
  // symbolKey now folds diacritics ("ÖKO" is "OKO"): candidates are looked up by the stored key.
  '009_symbol_keys_fold_marks': rekeySymbols,
};

/**
 * Applies sql/NNN_name.sql files and CODE_STEPS once each, in name order, in one transaction. An advisory
 * lock makes concurrent starts (two workers, the API) take turns; re-running is a no-op.
 */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d+_.+\.sql$/.test(f));
  const steps = [...files, ...(dir === MIGRATIONS_DIR ? Object.keys(CODE_STEPS) : [])].sort();
  return sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext('kasparro-etl:migrations'))`;
    // Before any DDL: a migration that alters asset_mappings and then fires the override trigger (sql/011) would
    // otherwise wait for the identity lock a load holds while that load waits for asset_mappings.
    await lockIdentity(tx, 'exclusive');
    await tx`CREATE TABLE IF NOT EXISTS schema_migrations (
      name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
    const done = new Set((await tx<{ name: string }[]>`SELECT name FROM schema_migrations`).map((r) => r.name));
    const applied: string[] = [];
    for (const step of steps.filter((s) => !done.has(s))) {
      const code = CODE_STEPS[step];
      if (code) await code(tx);
      else await tx.unsafe(await readFile(join(dir, step), 'utf8'));
      await tx`INSERT INTO schema_migrations (name) VALUES (${step})`;
      applied.push(step);
    }
    return applied;
  });
}

import type { Db } from './sql';

/**
 * Loads and identity operations take turns on which asset a listing belongs to. A load holds this lock shared
 * from resolving its listings until it commits, so the asset ids it read stay true for the quotes it writes;
 * loads never wait for each other. A merge, split or override holds it exclusive: it waits for the loads in
 * flight, and loads that start meanwhile wait for it, then read the mappings it left. Advisory, transaction
 * scoped: no row of asset_mappings is locked or written by a load that only meets known ids.
 */
export async function lockIdentity(tx: Db, mode: 'shared' | 'exclusive'): Promise<void> {
  if (mode === 'shared') await tx`SELECT pg_advisory_xact_lock_shared(hashtext('kasparro-etl:identity'))`;
  else await tx`SELECT pg_advisory_xact_lock(hashtext('kasparro-etl:identity'))`;
}

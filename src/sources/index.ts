import { UnknownSourceError } from '../shared/errors';
import { coingecko } from './coingecko';
import { coinpaprika } from './coinpaprika';
import { csv } from './csv';
import type { Source, SourceDefinition } from './types';

/**
 * The registry: the only place that names concrete sources. A new source is one file plus its fixtures,
 * added to this list.
 */
export const SOURCE_DEFINITIONS: readonly SourceDefinition<never>[] = [coingecko, coinpaprika, csv] as never;

export const SOURCE_NAMES: readonly string[] = SOURCE_DEFINITIONS.map((d) => d.name);

export type Sources = ReadonlyMap<string, Source>;

/** Builds every source from its parsed settings (see config.ts). */
export function createSources(settings: Readonly<Record<string, unknown>>): Sources {
  return new Map(
    SOURCE_DEFINITIONS.map((definition) => [definition.name, definition.create(settings[definition.name] as never)]),
  );
}

export function sourceNamed(sources: Sources, name: string): Source {
  const source = sources.get(name);
  if (!source) throw new UnknownSourceError(`unknown source "${name}" (known: ${[...sources.keys()].join(', ')})`);
  return source;
}

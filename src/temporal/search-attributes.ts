import { type Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SOURCE_SEARCH_ATTRIBUTE } from '../shared/names';

/** Registers the custom search attributes on a server that lacks them (the dev server gets them by flag). */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const existing = await connection.operatorService.listSearchAttributes({ namespace });
  if (existing.customAttributes?.[SOURCE_SEARCH_ATTRIBUTE] !== undefined) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: { [SOURCE_SEARCH_ATTRIBUTE]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
    });
  } catch (err) {
    // Another replica registered it between our look and our add.
    if (!/already exists/i.test((err as Error).message)) throw err;
  }
}

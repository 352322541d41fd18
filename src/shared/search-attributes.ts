import { defineSearchAttributeKey, SearchAttributeType, TypedSearchAttributes } from '@temporalio/common';
import { SOURCE_SEARCH_ATTRIBUTE } from './names';

/** Lets the Web UI filter runs by source: `EtlSource = "coingecko"`. Workflow-safe. */
export const SOURCE_KEY = defineSearchAttributeKey(SOURCE_SEARCH_ATTRIBUTE, SearchAttributeType.KEYWORD);

export function runSearchAttributes(source: string): TypedSearchAttributes {
  return new TypedSearchAttributes([{ key: SOURCE_KEY, value: source }]);
}

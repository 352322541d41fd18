import { assetIdParam, Envelope, Pagination, sourceParam } from './schemas';
import { nullableTimestamp, timestamp } from './schemas-runs';
import { z } from './zod';

/** Identity resolution's review-and-fix loop: what a person sees, and what they may ask. */

export const sourceAssetIdParam = z.string().min(1).max(200).openapi({ description: "the source's own id of the coin", example: 'bitcoin' });

export const IdentityListing = z
  .object({
    source: z.string(),
    source_asset_id: z.string(),
    symbol: z.string(),
    name: z.string(),
    rank: z.number().int().nullable(),
    price_usd: z.number().nullable(),
    market_cap_usd: z.number().nullable(),
    observed_at: nullableTimestamp,
  })
  .openapi('IdentityListing', { description: 'a listing as its source names it, with its latest quote' });

export const Evidence = z
  .object({
    prior: z.number(),
    name: z.number(),
    variant: z.number(),
    rank: z.number(),
    price: z.number(),
    market_cap: z.number(),
    total: z.number(),
  })
  .nullable()
  .openapi('IdentityEvidence', {
    description: 'each weight of evidence (log-odds, README "Canonical assets") and their sum; null for reviews recorded before evidence was kept',
  });

export const Review = z
  .object({
    listing: IdentityListing,
    asset_id: z.string().openapi({ description: 'the asset the listing is on now (its own, kept apart)' }),
    candidate: z.object({ asset_id: z.string(), symbol: z.string(), name: z.string(), listings: z.array(IdentityListing) }),
    confidence: z.number().nullable(),
    reason: z.string().nullable(),
    evidence: Evidence,
    created_at: timestamp,
  })
  .openapi('IdentityReview');

export const ReviewPage = Envelope.extend({ pagination: Pagination, data: z.array(Review) }).openapi('IdentityReviewPage');

const Who = {
  actor: z.string().trim().min(1).max(100).optional().openapi({ description: 'who asks, for the audit; default "api"', example: 'alice' }),
  note: z.string().trim().min(1).max(500).optional().openapi({ description: 'why, for the audit' }),
};
export const ReviewDecision = z.object(Who).strict().openapi('IdentityReviewDecision');
export const MergeRequest = z
  .object({ from_asset_id: assetIdParam, into_asset_id: assetIdParam, ...Who })
  .strict()
  .openapi('IdentityMerge', { description: 'every listing of from_asset_id moves to into_asset_id, with its history; from_asset_id is gone' });
export const SplitRequest = z
  .object({ source: sourceParam, source_asset_id: sourceAssetIdParam, ...Who })
  .strict()
  .openapi('IdentitySplit', { description: 'the listing moves, with its history, to a new asset of its own' });
export const OverrideRequest = z
  .object({ source: sourceParam, source_asset_id: sourceAssetIdParam, asset_id: assetIdParam, ...Who })
  .strict()
  .openapi('IdentityOverride', { description: 'the listing moves, with its history, to asset_id; later loads keep it there' });

export const IdentityOutcome = Envelope.extend({
  operation: z.enum(['merge', 'split', 'override', 'accept', 'reject']),
  already: z.boolean().openapi({ description: 'true when the data already said this: nothing changed, nothing was audited' }),
  audit_id: z.string().nullable(),
  from_asset_id: z.string().nullable(),
  to_asset_id: z.string().nullable(),
  listings: z.array(z.object({ source: z.string(), source_asset_id: z.string() })),
  quotes_moved: z.number().int().openapi({ description: 'rows of quotes (history) re-pointed' }),
  latest_moved: z.number().int().openapi({ description: 'rows of latest_quotes re-pointed' }),
}).openapi('IdentityOutcome');

export const AuditEntry = z
  .object({
    id: z.string(),
    at: timestamp,
    actor: z.string(),
    operation: z.string(),
    source: z.string().nullable(),
    source_asset_id: z.string().nullable(),
    from_asset_id: z.string().nullable(),
    to_asset_id: z.string().nullable(),
    quotes_moved: z.number().int(),
    latest_moved: z.number().int(),
    listings: z.array(z.object({ source: z.string(), source_asset_id: z.string() })),
    note: z.string().nullable(),
  })
  .openapi('IdentityAuditEntry');
export const AuditPage = Envelope.extend({ pagination: Pagination, data: z.array(AuditEntry) }).openapi('IdentityAuditPage');

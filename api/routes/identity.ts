import {
  acceptReview,
  IdentityNotFound,
  mergeAssets,
  pointListing,
  rejectReview,
  splitListing,
  type IdentityOutcome,
} from '../../src/db/identity-operations';
import { listIdentityAudit, listOpenReviews } from '../../src/db/identity-queries';
import { SOURCE_NAMES } from '../../src/sources';
import type { ApiDeps } from '../deps';
import { notFound } from '../errors';
import { requireApiKey } from '../middleware/api-key';
import { envelope, pageBody } from '../middleware/request-context';
import { defineRoute } from '../route';
import { pageQuery, sourceParam } from '../schemas';
import {
  AuditPage,
  IdentityOutcome as OutcomeBody,
  MergeRequest,
  OverrideRequest,
  ReviewDecision,
  ReviewPage,
  sourceAssetIdParam,
  SplitRequest,
} from '../schemas-identity';
import type { ZodType } from 'zod';
import { z } from '../zod';

/** The review-and-fix loop of identity resolution (README, "Fixing a wrong match"). */

const TAGS = ['identity'];

export function reviewListRoute(deps: ApiDeps) {
  return defineRoute({
    method: 'get',
    path: '/identity/review',
    summary: 'Open review candidates: listings kept apart from an asset they might be, most likely first, with both sides and the evidence',
    tags: TAGS,
    query: z.object({ source: sourceParam.optional(), ...pageQuery({ default: 50, max: 500 }) }),
    responses: { 200: { description: 'a page of open reviews', schema: ReviewPage }, 400: { description: 'bad parameter' } },
    async handler({ query, req }) {
      return { status: 200, body: pageBody(req, query, await listOpenReviews(deps.sql, query)) };
    },
  });
}

export function auditRoute(deps: ApiDeps) {
  return defineRoute({
    method: 'get',
    path: '/identity/audit',
    summary: 'Every merge, split, override and review decision: who, what, when, and how many history rows moved',
    tags: TAGS,
    query: z.object(pageQuery({ default: 50, max: 500 })),
    responses: { 200: { description: 'a page of audit entries, newest first', schema: AuditPage }, 400: { description: 'bad parameter' } },
    async handler({ query, req }) {
      return { status: 200, body: pageBody(req, query, await listIdentityAudit(deps.sql, query)) };
    },
  });
}

const ListingParams = z.object({ source: sourceParam, source_asset_id: sourceAssetIdParam });

const operationResponses = (what: string) => ({
  200: { description: `${what}; \`already\` when nothing had to change`, schema: OutcomeBody },
  400: { description: 'malformed body or parameter' },
  401: { description: 'missing or wrong X-API-Key' },
  404: { description: 'no such asset, listing or review' },
  409: { description: 'refused as the data stands (one source would map two ids onto one asset; settled the other way already): the message says why' },
});

export const acceptReviewRoute = (deps: ApiDeps) =>
  operationRoute(deps, {
    path: '/identity/review/:source/:source_asset_id/accept',
    summary: "Accept a review: the listing's asset merges into the candidate, history and all",
    params: ListingParams,
    body: ReviewDecision,
    done: 'merged',
    run: ({ params, body }) => acceptReview(deps.sql, { ...params, ...who(body) }, SOURCE_NAMES),
  });

export const rejectReviewRoute = (deps: ApiDeps) =>
  operationRoute(deps, {
    path: '/identity/review/:source/:source_asset_id/reject',
    summary: 'Reject a review: the listing stays an asset of its own and the pair is not listed again',
    params: ListingParams,
    body: ReviewDecision,
    done: 'rejected',
    run: ({ params, body }) => rejectReview(deps.sql, { ...params, ...who(body) }),
  });

export const mergeRoute = (deps: ApiDeps) =>
  operationRoute(deps, {
    path: '/identity/merge',
    summary: 'Merge two assets: every listing of from_asset_id, with its history, moves to into_asset_id',
    body: MergeRequest,
    done: 'merged',
    run: ({ body }) => mergeAssets(deps.sql, { from: body.from_asset_id, into: body.into_asset_id, ...who(body) }, SOURCE_NAMES),
  });

export const splitRoute = (deps: ApiDeps) =>
  operationRoute(deps, {
    path: '/identity/split',
    summary: 'Split a listing off its asset onto a new asset of its own, history and all',
    body: SplitRequest,
    done: 'split',
    run: ({ body }) => splitListing(deps.sql, { source: body.source, source_asset_id: body.source_asset_id, ...who(body) }, SOURCE_NAMES),
  });

export const overrideRoute = (deps: ApiDeps) =>
  operationRoute(deps, {
    path: '/identity/override',
    summary: 'Point a listing at an asset by hand, history and all; later loads keep it there',
    body: OverrideRequest,
    done: 'moved',
    run: ({ body }) =>
      pointListing(deps.sql, { source: body.source, source_asset_id: body.source_asset_id, assetId: body.asset_id, ...who(body) }, SOURCE_NAMES),
  });

/** A POST that carries out one identity operation, behind the API key, answering its outcome. */
function operationRoute<P, B>(
  deps: ApiDeps,
  spec: { path: string; summary: string; params?: ZodType<P>; body: ZodType<B>; done: string; run(input: { params: P; body: B }): Promise<IdentityOutcome> },
) {
  return defineRoute({
    method: 'post',
    path: spec.path,
    summary: spec.summary,
    tags: TAGS,
    ...(spec.params ? { params: spec.params } : {}),
    body: spec.body,
    guard: (req) => requireApiKey(req, deps.apiKey),
    responses: operationResponses(spec.done),
    async handler({ params, body, req }) {
      try {
        return { status: 200, body: { ...envelope(req), ...(await spec.run({ params: params as P, body })) } };
      } catch (err) {
        if (err instanceof IdentityNotFound) throw notFound(err.message);
        throw err;
      }
    },
  });
}

const who = (body: { actor?: string | undefined; note?: string | undefined }) => ({ actor: body.actor ?? 'api', note: body.note });

-- The evidence behind every identity decision, kept beside it: a match's terms (evidence), and for a listing
-- kept apart but close, the candidate's confidence and terms, which GET /identity/review shows a person.
ALTER TABLE asset_mappings
  ADD COLUMN evidence          jsonb,
  ADD COLUMN review_confidence numeric(4, 3),
  ADD COLUMN review_evidence   jsonb;

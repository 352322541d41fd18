#!/usr/bin/env bash
# Validates docker-compose.yml without a Docker engine, with compose-go (the loader `docker compose` uses),
# built once from tools/compose-check into the cache outside the repository. Checks:
#  1. with every secret of .env.example set, the file loads (schema, interpolation, merges, the demo profile)
#     and every long-running service has a healthcheck and every depends_on a condition;
#  2. with any one secret missing, loading fails: no credential has a default in the file.
# With arguments, it runs the loader with them instead, e.g. `-f DIR/docker-compose.yml` prints the file as
# `docker compose config` would (test/support/compose.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${KASPARRO_CACHE_DIR:-$HOME/.cache/kasparro-etl}/bin/compose-check"
stamp="$(cat tools/compose-check/go.mod tools/compose-check/go.sum tools/compose-check/main.go | sha256sum | cut -c1-16)"
if [[ ! -x "$bin" || "$(cat "$bin.stamp" 2>/dev/null)" != "$stamp" ]]; then
  echo "compose-check: building tools/compose-check (once)" >&2
  mkdir -p "$(dirname "$bin")"
  (cd tools/compose-check && CGO_ENABLED=0 go build -o "$bin" .)
  echo "$stamp" > "$bin.stamp"
fi
if [[ $# -gt 0 ]]; then exec "$bin" "$@"; fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp docker-compose.yml "$work/"
# The secrets .env.example leaves empty, set to placeholders; everything else as the example has it.
sed -E 's/^([A-Z_]*PASSWORD)=$/\1=compose-check-placeholder/' .env.example > "$work/.env"
"$bin" -q -profile demo -f "$work/docker-compose.yml"

cp "$work/.env" "$work/env.complete"
for secret in $(grep -oE '^[A-Z_]*PASSWORD' .env.example); do
  grep -v "^$secret=" "$work/env.complete" > "$work/.env"
  if "$bin" -q -f "$work/docker-compose.yml" 2> "$work/err"; then
    echo "compose-check: FAIL: the file loaded without $secret, so it has a default somewhere" >&2
    exit 1
  fi
  grep -q "required variable $secret is missing" "$work/err"
  echo "compose-check: without $secret the file is refused, as it must be" >&2
done

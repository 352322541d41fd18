# syntax=docker/dockerfile:1
# Multi-stage: dev dependencies and the workflow bundler stay in the build stage.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci's postinstall applies patches/ (patch-package): the driver's fix must be in the image too.
COPY patches ./patches
RUN npm ci --no-fund --no-audit
COPY . .
# Workers run the workflow code that was bundled (and tested) here, not a bundle made at start-up.
RUN npm run build:workflows

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    TEMPORAL_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    LOG_PRETTY=false
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --no-fund --no-audit && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY tsconfig.json ./
COPY src ./src
COPY api ./api
COPY activities ./activities
COPY workflows ./workflows
COPY sql ./sql
COPY data ./data
USER node
ENV API_HOST=0.0.0.0 API_PORT=8080
EXPOSE 8080
# The image's default role is the API, which also applies migrations, the schedules and a first run of every
# source on start-up (idempotent). Workers run the same image with `src/bin/cli.ts worker` and probe with
# `healthcheck worker` (docker-compose.yml). Healthy means GET /health is 200: database, Temporal and a worker.
# The same check as `etl healthcheck api`, without loading the CLI: 0.1 s of CPU per probe instead of 1.7 s.
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=5 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.API_PORT || 8080) + '/health').then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--import", "tsx", "src/bin/cli.ts", "api", "--bootstrap"]

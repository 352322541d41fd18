# syntax=docker/dockerfile:1
# Multi-stage: dev dependencies and the workflow bundler stay in the build stage.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
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
RUN npm ci --omit=dev --no-fund --no-audit && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY tsconfig.json ./
COPY src ./src
COPY activities ./activities
COPY workflows ./workflows
COPY sql ./sql
COPY data ./data
USER node
# The worker has no port: it is healthy while its process runs and polls Temporal (restart policy covers it).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD pgrep -f "src/bin/cli.ts worker" > /dev/null || exit 1
CMD ["node", "--import", "tsx", "src/bin/cli.ts", "worker"]

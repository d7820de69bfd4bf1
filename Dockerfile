# The Runner Token Service image. Three stages: the production dependencies alone; the build (every
# dependency, TypeScript compiled to dist/); the runtime, which takes those two and package.json and
# nothing else: no sources, tests, dev dependencies, .env or keys (.dockerignore keeps those out of
# the build context too). It runs as the image's unprivileged `node` user (uid 1000) and writes
# nothing, so it runs with a read-only root filesystem.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency needs an install script; the one that has one (@scarf/scarf, under
# swagger-ui-dist) only sends install analytics.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and read-only to the service: it cannot change its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# "type": "module": Node reads it to load dist/ as ES modules.
COPY package.json ./
USER node
EXPOSE 8000
# Liveness only (the process answers); readiness is GET /readyz. Slim images have no curl: Node's fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/main.js"]

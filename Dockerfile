# syntax=docker/dockerfile:1
# The projector image: one ESM bundle of our code, production node_modules beside it (native
# better-sqlite3 and the gRPC/Redis clients stay external), run as a non-root user.

ARG NODE_IMAGE=node:20-bookworm-slim

# 1. bundle src/projector/main.ts (and the #aliases it imports) with the dev toolchain
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npx esbuild projector=src/projector/main.ts parked=src/projector/parkedCli.ts \
      --bundle --platform=node --target=node20 --format=esm --packages=external \
      --sourcemap --outdir=dist --out-extension:.js=.mjs

# 2. production dependencies only (better-sqlite3 builds or fetches its native binding here)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# 3. runtime
FROM ${NODE_IMAGE}
# tini as PID 1 forwards SIGTERM to node and reaps zombies; no shell sits in between.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    DATA_DIR=/app/.data \
    PROJECTOR_HEALTH_PORT=9464
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PROJECTOR_HEALTH_PORT||9464)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `docker run <image> node dist/parked.mjs list|replay` runs the parked-events CLI instead.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/projector.mjs"]

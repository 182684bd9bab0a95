# syntax=docker/dockerfile:1
# The projector image: one ESM bundle of our code, production node_modules beside it (the gRPC and
# Redis clients stay external), run as a non-root user on a read-only root filesystem (ECS task
# definition; /tmp is a scratch volume). It runs on EventStoreDB and Redis only: the embedded SQLite
# default is for local runs, so no native module is built and no install script runs.

# node:24-bookworm-slim (Node 24.18.0), pinned by the digest of its multi-arch index (amd64 and
# arm64: the Fargate task is arm64). The digest was taken from public pins of this tag, not pulled
# on the machine that wrote this file: check it before the first build with
#   docker buildx imagetools inspect node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d
# and move it forward deliberately (README "Deploying" › Updating the base image).
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

# 1. bundle src/projector/main.ts and parkedCli.ts (and the #aliases they import) with the dev
#    toolchain: `npm run build`'s script, whose esbuild options (scripts/projectorBundle.ts) are the
#    ones test/deploy starts the projector from on Node 24
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY scripts/build.ts scripts/projectorBundle.ts ./scripts/
RUN npx tsx scripts/build.ts

# 2. production dependencies only; no install scripts (better-sqlite3's native build is for the
#    local SQLite default, which this image never uses: its JS loads, its binding is never opened)
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# 3. runtime
FROM ${NODE_IMAGE}
# tini as PID 1 forwards SIGTERM to node and reaps zombies; no shell sits in between.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
# A container is a deployed process: it refuses to start without EventStoreDB and Redis.
ENV NODE_ENV=production \
    CHRONICLE_REQUIRE_PRODUCTION_STORES=true \
    PROJECTOR_HEALTH_PORT=9464
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
# uid/gid 1000 (`node`): the ECS task definition runs it as 1000:1000 too.
USER node
EXPOSE 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PROJECTOR_HEALTH_PORT||9464)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# `docker run <image> node dist/parked.mjs list|replay` runs the parked-events CLI instead.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "dist/projector.mjs"]

# syntax=docker/dockerfile:1
# The Nattevakt server with the built web app. Build from the repository root:
#   docker build -f deploy/docker/server.Dockerfile -t nattevakt/server .
# Runs as the distroless "nonroot" user (65532); the embedded stores and the InfluxDB spool live in
# /var/lib/nattevakt (a volume, one per instance). See deploy/README.md.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

# ── build: every workspace's dependencies, the TypeScript build and the web app ───────────────────
FROM ${NODE_IMAGE} AS build
# better-sqlite3 compiles from source when its prebuilt binary cannot be fetched.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY protocol/package.json protocol/
COPY gateway/package.json gateway/
COPY server/package.json server/
COPY simulator/package.json simulator/
COPY web/package.json web/
COPY e2e/package.json e2e/
COPY bench/package.json bench/
COPY deploy/package.json deploy/
RUN npm ci --no-audit --no-fund
COPY protocol/ protocol/
COPY simulator/ simulator/
COPY server/ server/
COPY web/ web/
COPY deploy/docker/healthcheck.mjs deploy/docker/
RUN npx tsc -b server && npm run build -w web

# ── production dependencies of the server, protocol and simulator (commissioning scenarios) only; better-sqlite3 without its sources and
#    build intermediates (about 29 MB), keeping only build/Release/better_sqlite3.node ──────────────
FROM build AS prod-deps
RUN rm -rf node_modules */node_modules \
  && npm ci --omit=dev --no-audit --no-fund --workspace=server --workspace=protocol --workspace=simulator --include-workspace-root=false \
  && B=node_modules/better-sqlite3 \
  && rm -rf $B/deps $B/src $B/build/Release/obj $B/build/Release/obj.target $B/build/Release/.deps \
     $B/build/Release/sqlite3.a $B/build/Release/test_extension.node \
  && mkdir -p /out/app/protocol /out/app/simulator /out/app/server /out/var/lib/nattevakt \
  && cp -a package.json node_modules /out/app/ \
  && cp -a protocol/package.json protocol/dist /out/app/protocol/ \
  && cp -a simulator/package.json simulator/dist simulator/scenarios /out/app/simulator/ \
  && cp -a server/package.json server/dist /out/app/server/ \
  && if [ -d server/node_modules ]; then cp -a server/node_modules /out/app/server/; fi \
  && if [ -d simulator/node_modules ]; then cp -a simulator/node_modules /out/app/simulator/; fi \
  && mkdir -p /out/app/web && cp -a web/dist /out/app/web/ \
  && cp deploy/docker/healthcheck.mjs /out/app/

# ── runtime: distroless Node 20, no shell, no package manager ────────────────────────────────────
FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /out/app /app
COPY --from=prod-deps --chown=65532:65532 /out/var/lib/nattevakt /var/lib/nattevakt
USER 65532:65532
VOLUME ["/var/lib/nattevakt"]
EXPOSE 8080
# Listens on every interface: the session cookie is then Secure, so serve it behind HTTPS (the load balancer).
ENTRYPOINT ["/nodejs/bin/node", "server/dist/src/main.js"]
CMD ["--host", "0.0.0.0", "--port", "8080", "--data-dir", "/var/lib/nattevakt"]
# 200 only while the relational store answers (GET /api/health says 503 otherwise).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/healthcheck.mjs", "http://127.0.0.1:8080/api/health"]

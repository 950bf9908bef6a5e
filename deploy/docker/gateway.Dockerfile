# syntax=docker/dockerfile:1
# One site's Nattevakt gateway with its embedded MQTT broker. Build from the repository root:
#   docker build -f deploy/docker/gateway.Dockerfile -t nattevakt/gateway .
# Runs as the distroless "nonroot" user (65532). Mount the configuration at /etc/nattevakt/gateway.json
# (stateDir "/var/lib/nattevakt-gateway", http.host "0.0.0.0") and a volume for the state directory.

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs20-debian12:nonroot

FROM ${NODE_IMAGE} AS build
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
COPY gateway/ gateway/
COPY deploy/docker/healthcheck.mjs deploy/docker/
RUN npx tsc -b gateway

FROM build AS prod-deps
RUN rm -rf node_modules */node_modules \
  && npm ci --omit=dev --no-audit --no-fund --workspace=gateway --workspace=protocol --include-workspace-root=false \
  && B=node_modules/better-sqlite3 \
  && rm -rf $B/deps $B/src $B/build/Release/obj $B/build/Release/obj.target $B/build/Release/.deps \
     $B/build/Release/sqlite3.a $B/build/Release/test_extension.node \
  && mkdir -p /out/app/protocol /out/app/gateway /out/var/lib/nattevakt-gateway \
  && cp -a package.json node_modules /out/app/ \
  && cp -a protocol/package.json protocol/dist /out/app/protocol/ \
  && cp -a gateway/package.json gateway/dist /out/app/gateway/ \
  && if [ -d gateway/node_modules ]; then cp -a gateway/node_modules /out/app/gateway/; fi \
  && cp deploy/docker/healthcheck.mjs /out/app/

FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production
# A capped V8 heap: ~130 MB RSS at 10,000 sensors and 2,000 msg/s instead of ~330 MB, same latency
# (bench/README.md, "Decision latency"; issue 3 asks < 200 MB). `docker run -e NODE_OPTIONS=...` for a larger site.
ENV NODE_OPTIONS="--max-old-space-size=128 --max-semi-space-size=2"
COPY --from=prod-deps /out/app /app
COPY --from=prod-deps --chown=65532:65532 /out/var/lib/nattevakt-gateway /var/lib/nattevakt-gateway
USER 65532:65532
VOLUME ["/var/lib/nattevakt-gateway"]
# MQTT, MQTT over TLS, health and metrics (http.port).
EXPOSE 1883 8883 9101
ENTRYPOINT ["/nodejs/bin/node", "gateway/dist/src/main.js"]
CMD ["--config", "/etc/nattevakt/gateway.json"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/nodejs/bin/node", "/app/healthcheck.mjs", "http://127.0.0.1:9101/health"]

# syntax=docker/dockerfile:1
# One image for all five Tidemark services; the service is chosen by the container's argument:
#   docker build -t tidemark .
#   docker run --rm -e KAFKA_BROKERS=kafka:9092 tidemark freshness-monitor
# Services: contract-checker, freshness-monitor, parity-verifier, drift-detector, alert-router.
# Validated here without a container runtime (test/ops/container.test.ts); see docs/operations.md.
ARG NODE_IMAGE=node:22.22-bookworm-slim

# ---- build: install every dependency, compile the TypeScript, then drop the dev dependencies
FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false NPM_CONFIG_UPDATE_NOTIFIER=false
COPY . .
RUN npm ci --no-progress \
  && npm run build \
  && npm prune --omit=dev \
  && find packages services -name '*.tsbuildinfo' -delete

# ---- runtime: compiled output, production dependencies and the contracts only; runs as the unprivileged node user
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    CONTRACTS_DIR=/app/contracts \
    HTTP_PORT=8080
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/packages ./packages
COPY --from=build /src/services ./services
COPY --from=build /src/contracts ./contracts
COPY --from=build /src/deploy/docker/service.mjs ./deploy/docker/service.mjs
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The OpenTelemetry preload must run before the service imports kafkajs (see packages/runtime/src/otel.ts).
ENTRYPOINT ["node", "--import", "@tidemark/runtime/otel", "/app/deploy/docker/service.mjs"]
CMD ["freshness-monitor"]

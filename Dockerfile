# syntax=docker/dockerfile:1
# bos-fleet: one image for every command (api, collector, simulator, token, mcp).
#   docker build -t bos-fleet .
#   docker run --rm bos-fleet --help
# Node 24 strips the TypeScript types at load time, so there is no build step: the image runs
# the sources as they are in the repository. compose.yaml builds it and picks the command.

FROM node:24-bookworm-slim AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
# --ignore-scripts: the only install script the app needs is `prepare` (proto types, run below);
# the `node` devDependency would otherwise fetch a second Node 24 the base image already has.
RUN npm ci --ignore-scripts
COPY . .
# proto/generated holds TypeScript types only (erased at run time); generated here so the image
# matches what `npm ci` gives a checkout. Then drop the dev dependencies.
RUN node proto/generate.ts && npm prune --omit=dev --ignore-scripts

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# Mount points owned by the unprivileged `node` user (uid 1000). A named volume mounted on one
# of them starts with this owner, so the app can write there without running as root:
#   /config         inventory file (the demo simulator writes it, the collector reads it)
#   /keys           public key the API verifies JWTs with
#   /signing        private signing key (only the key generator and the token CLI mount it)
#   /data/firmware  uploaded firmware images (FIRMWARE_DIR)
#   /data/secret    the API's generated job-sealing key (BOSFLEET_SECRET_KEY_FILE), mode 0700
#   /data/store     the embedded store of `bos-fleet start` (BOSFLEET_DATA_DIR)
RUN mkdir -p /config /keys /signing /data/firmware /data/secret /data/store \
  && printf '%s\n' '# bos-fleet inventory (format: docs/configuration.md). Replace this file or add miners through the API.' 'miners: []' > /config/inventory.yaml \
  && chown -R node:node /config /keys /signing /data \
  && chmod 0700 /signing /data/secret
COPY --from=build /app /app
USER node
EXPOSE 8080 9464
# Liveness of the API (port API_PORT, default 8080). compose.yaml points the collector's check
# at its own port (9464). No curl in the slim image: Node's fetch does the request.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.API_PORT || 8080) + '/health/live', { signal: AbortSignal.timeout(4000) }).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/bos-fleet.ts"]
CMD ["api"]

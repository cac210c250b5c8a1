# One image for every mqtt-oidc app, running compiled JavaScript with node:
# no package manager, no TypeScript, no compiler at run time. docker-compose.yml
# picks the app with its command (`node apps/idp/dist/main.js`, ...); the
# default runs the whole stack in one process (dist/start-stack.js).
#
# Stages: `toolchain` (pnpm, and python3/make/g++ for better-sqlite3, whose
# prebuilt binary download is not always reachable, so it compiles against
# this image's own Node headers), `deps` (production dependencies only, the
# native addon built with every core), `build` (all dependencies, no install
# scripts, `tsc -b` to dist/), and the runtime stage: deps + dist/, owned by
# root and read-only to the app, run as the non-root `node` user (uid 1000),
# state and secrets in the /data volume (mode 0700), never in the image.
#
# Behind a TLS-intercepting proxy, pass its CA bundle as a build secret (used
# by the install steps only, never stored in a layer):
#   docker build --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt -t mqtt-oidc:dev .
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
# node-gyp: this Node's headers instead of a download, all cores, and no
# attempt to fetch a prebuilt binary first.
ENV npm_config_nodedir=/usr/local JOBS=max npm_config_build_from_source=true
RUN --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi \
 && npm install --global --no-fund --no-audit pnpm@12.4.2
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY apps/idp/package.json apps/idp/
COPY apps/exchange/package.json apps/exchange/
COPY apps/broker/package.json apps/broker/
COPY packages/core/package.json packages/core/
COPY packages/jose/package.json packages/jose/
COPY packages/store/package.json packages/store/
COPY packages/broker-auth/package.json packages/broker-auth/
COPY packages/client/package.json packages/client/
COPY packages/cli/package.json packages/cli/
COPY packages/cli/bin/ packages/cli/bin/
COPY packages/test-support/package.json packages/test-support/

# The addon is all better-sqlite3 needs at run time: its sources and objects go.
FROM toolchain AS deps
RUN --mount=type=secret,id=ca-certificates --mount=type=cache,id=mqtt-oidc-pnpm,target=/pnpm-store \
    if [ -s /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi \
 && pnpm install --frozen-lockfile --prod --store-dir=/pnpm-store --package-import-method=copy --reporter=append-only \
 && cd node_modules/.pnpm/better-sqlite3@*/node_modules/better-sqlite3 \
 && rm -rf deps src build/Release/obj.target build/Release/.deps build/deps build/Release/test_extension.node

FROM toolchain AS build
RUN --mount=type=secret,id=ca-certificates --mount=type=cache,id=mqtt-oidc-pnpm,target=/pnpm-store \
    if [ -s /run/secrets/ca-certificates ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca-certificates; fi \
 && pnpm install --frozen-lockfile --ignore-scripts --store-dir=/pnpm-store --package-import-method=copy --reporter=append-only
COPY tsconfig.base.json tsconfig.build.json ./
COPY scripts/tsconfig.json scripts/start-stack.ts scripts/
COPY apps/ apps/
COPY packages/ packages/
RUN pnpm run build \
 && mkdir /out && cp -r --parents dist apps/*/dist packages/*/dist /out/ \
 && find /out -name '.tsbuildinfo' -delete

FROM node:20-bookworm-slim
# `mqtt-oidc` on the PATH: the CLI's launcher, which runs dist/ with node.
ENV NODE_ENV=production MQTT_OIDC_DATA_DIR=/data PATH=/app/node_modules/.bin:$PATH
RUN mkdir -p /data /home/node/.config/mqtt-oidc \
 && chown node:node /data /home/node/.config /home/node/.config/mqtt-oidc \
 && chmod 700 /data /home/node/.config/mqtt-oidc
WORKDIR /app
COPY --from=deps /app /app
COPY --from=build /out /app
COPY scripts/healthcheck.mjs scripts/
USER node
VOLUME ["/data"]
EXPOSE 4000 4001 1883 8083
CMD ["node", "--enable-source-maps", "dist/start-stack.js"]

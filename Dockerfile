# One image for every mqtt-oidc app; the compose file picks the app with its
# command. Dependencies are installed in a build stage (with the compiler
# better-sqlite3 may need); the runtime stage runs as the non-root `node` user
# and holds no build tools. Secrets are never baked in: they live in the
# data volume (/data, mode 0700) or come from the environment at run time.
FROM node:20-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY scripts/ scripts/
COPY apps/idp/package.json apps/idp/
COPY apps/exchange/package.json apps/exchange/
COPY apps/broker/package.json apps/broker/
COPY packages/core/package.json packages/core/
COPY packages/broker-auth/package.json packages/broker-auth/
COPY packages/client/package.json packages/client/
COPY packages/client/bin/ packages/client/bin/
RUN node scripts/setup.mjs

FROM node:20-bookworm-slim
ENV NODE_ENV=development MQTT_OIDC_DATA_DIR=/data
WORKDIR /app
RUN npm i -g pnpm@12.4.2 && mkdir -p /data && chown node:node /data && chmod 700 /data
COPY --from=deps --chown=node:node /app /app
COPY --chown=node:node . .
USER node
VOLUME ["/data"]
CMD ["pnpm", "start"]

# One image for every mqtt-oidc app; docker-compose.yml picks the app with its
# command (`pnpm --filter @mqtt-oidc/<app> start`, `pnpm mqtt-oidc ...`); the
# default runs the whole stack in one process. Packages run from their
# TypeScript sources through tsx, a production dependency of each app.
#
# Stage 1 installs production dependencies only (`pnpm install --prod` from
# the lockfile), with the compiler better-sqlite3 needs when no prebuilt
# binary fits. Stage 2 holds no compiler and no dev dependency, keeps the code
# owned by root (read-only to the app) and runs as the non-root `node` user.
# Secrets are never baked in: they live in the data volume (/data, mode 0700)
# or come from the environment at run time.
FROM node:20-bookworm-slim AS deps
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
RUN npm i -g pnpm@12.4.2
# node-gyp finds this Node's headers here instead of downloading them.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY apps/idp/package.json apps/idp/
COPY apps/exchange/package.json apps/exchange/
COPY apps/broker/package.json apps/broker/
COPY packages/core/package.json packages/core/
COPY packages/jose/package.json packages/jose/
COPY packages/broker-auth/package.json packages/broker-auth/
COPY packages/client/package.json packages/client/
COPY packages/client/bin/ packages/client/bin/
RUN pnpm install --frozen-lockfile --prod --reporter=append-only

FROM node:20-bookworm-slim
ENV NODE_ENV=production MQTT_OIDC_DATA_DIR=/data
RUN npm i -g pnpm@12.4.2 \
 && mkdir -p /data /home/node/.config/mqtt-oidc \
 && chown node:node /data /home/node/.config /home/node/.config/mqtt-oidc \
 && chmod 700 /data /home/node/.config/mqtt-oidc
WORKDIR /app
COPY --from=deps /app /app
COPY . .
USER node
VOLUME ["/data"]
EXPOSE 4000 4001 1883 8083
CMD ["pnpm", "start:stack"]

# syntax=docker/dockerfile:1
# opentact-ari: the engine (node dist/app/cli.js start) and, with another command, the
# demo callback server (node dist/scripts/demo-server.js). See docker-compose.yml.

ARG NODE_IMAGE=node:20-slim

# ---- build: every dependency, compile TypeScript, then drop the dev dependencies -------
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY app ./app
COPY lib ./lib
COPY scripts ./scripts
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production dependencies, the compiled code, a non-root user ---------------
FROM ${NODE_IMAGE} AS runtime
# espeak-ng renders <Say>; sox (with mp3 support) converts <Play> audio to 8 kHz WAV.
RUN apt-get update \
 && apt-get install -y --no-install-recommends espeak-ng sox libsox-fmt-mp3 \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# The image's `node` user (uid 1000); the code stays owned by root, read-only to it.
USER node
# The engine's HTTP server (/health, /ready, /metrics, /media/*, /admin/* with ADMIN_* set).
EXPOSE 8080
CMD ["node", "dist/app/cli.js", "start"]

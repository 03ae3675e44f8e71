# Timebox: the GitHub App, built from source and run with Probot.
#   docker build -t timebox .
#   docker run --env-file .env -p 3000:3000 timebox

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY schemas ./schemas
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
# tini as PID 1 passes SIGTERM on to Node (which, as PID 1, would ignore it): `docker stop` and
# rolling deploys end the app at once instead of after the kill timeout. Stopping it at any moment
# is safe: Git is the state, and the next reconcile finishes what was under way.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
# JSON logs (Probot pretty-prints otherwise, even in production).
ENV NODE_ENV=production \
    LOG_FORMAT=json \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/lib ./lib
# Schemas are read at run time (lib/yaml/schema.js); package.json and app.yml are read by Probot.
COPY package.json app.yml ./
COPY schemas ./schemas
# The image's unprivileged user; the app writes nothing to disk.
USER node
# Webhooks on POST /api/github/webhooks, GET /ping for health, GET /metrics for Prometheus (keep it internal).
EXPOSE 3000
# Probot answers GET /ping with "PONG".
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 3000}/ping`).then(r => r.text()).then(t => process.exit(t === 'PONG' ? 0 : 1), () => process.exit(1))"]
# Probot directly: `npm start` would rebuild first (prestart), and the TypeScript compiler is pruned.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node_modules/.bin/probot", "run", "./lib/index.js"]

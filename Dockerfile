# Images of the two services (Node 22; the code also runs on Node 20.19).
#   docker build --target extender   -t ghcr.io/rdmasched/scheduler-extender:0.1.0 .
#   docker build --target node-agent -t ghcr.io/rdmasched/node-agent:0.1.0 .
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
COPY contracts/package.json contracts/
COPY crds/package.json crds/
COPY scheduler-extender/package.json scheduler-extender/
COPY node-agent/package.json node-agent/
COPY testkit/package.json testkit/
COPY sim/package.json sim/
COPY bench/package.json bench/
RUN npm ci --ignore-scripts
COPY tsconfig.base.json tsconfig.json ./
COPY contracts contracts
COPY crds crds
COPY scheduler-extender scheduler-extender
COPY node-agent node-agent
RUN npx tsc -b contracts crds scheduler-extender node-agent && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/package.json ./
COPY --from=build /src/contracts/package.json contracts/
COPY --from=build /src/crds/package.json crds/
COPY --from=build /src/crds/dist crds/dist
COPY --from=build /src/crds/manifests crds/manifests

FROM runtime AS extender
COPY --from=build /src/contracts/dist contracts/dist
COPY --from=build /src/scheduler-extender/package.json scheduler-extender/
COPY --from=build /src/scheduler-extender/dist scheduler-extender/dist
COPY --from=build /src/scheduler-extender/bin scheduler-extender/bin
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["node", "scheduler-extender/bin/rdmasched-extender.js"]

FROM runtime AS node-agent
# `ip` and `devlink` set VF GUIDs/MACs and read eswitch modes on the host.
RUN apt-get update && apt-get install -y --no-install-recommends iproute2 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/contracts/dist contracts/dist
COPY --from=build /src/node-agent/package.json node-agent/
COPY --from=build /src/node-agent/dist node-agent/dist
COPY --from=build /src/node-agent/bin node-agent/bin
COPY --from=build /src/node-agent/proto node-agent/proto
EXPOSE 9110
ENTRYPOINT ["node", "node-agent/bin/rdmasched-agent.js"]

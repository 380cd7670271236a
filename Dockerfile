# The chat server (examples/chat.ts) from the sources: docs/operations.md#docker.
#   docker build -t polysocket-chat .
#   docker run --rm -p 8080:8080 polysocket-chat                   # Node
#   docker run --rm -p 8080:8080 polysocket-chat npm run chat:bun   # Bun
#   docker run --rm -p 8080:8080 polysocket-chat npm run chat:deno  # Deno
FROM node:20-slim

WORKDIR /app

# Dependencies first, so a change to the sources reuses this layer. The devDependencies
# are needed: tsx runs the example on Node, esbuild bundles its page, and the bun and
# deno packages are the other two runtimes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .

ENV PORT=8080
EXPOSE 8080
USER node

# The scripts exec the runtime, so npm's one child is the server and `docker stop`'s
# SIGTERM reaches it: clients get 1001 and the container exits 0.
CMD ["npm", "run", "chat"]

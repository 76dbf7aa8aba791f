# Stand-in for the official redis:<major>-trixie: Debian's own redis-server, redis-sentinel and redis-cli, with the
# image's /data working directory owned by the redis user. Built by test/docker/standin-images.sh only.
ARG BASE
FROM ${BASE}
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server redis-sentinel redis-tools >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o redis -g redis /data
WORKDIR /data
EXPOSE 6379
CMD ["redis-server"]

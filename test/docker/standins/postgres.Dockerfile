# Stand-in for the official postgres:<major>-trixie: Debian's own PostgreSQL of that major at the same paths
# (/usr/lib/postgresql/<major>/bin on PATH, user postgres). No entrypoint: docker/'s Patroni image does not use one.
# Built by test/docker/standin-images.sh only.
ARG BASE
FROM ${BASE}
ARG PG_MAJOR=17
# As the official image does: no cluster at install time.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/no-main.conf \
    && apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-${PG_MAJOR} >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data /var/run/postgresql
ENV PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
CMD ["postgres"]

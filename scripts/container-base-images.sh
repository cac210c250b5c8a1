#!/usr/bin/env bash
# Local stand-ins for the base images the Dockerfile and docker-compose.yml
# name, for a machine that reaches Debian's mirrors and the npm registry but no
# image registry (CI here). On a machine that can pull, you never need this:
# the real images are used.
#
#   node:20-bookworm-slim  a minimal Debian bookworm root filesystem
#                          (debootstrap --variant=minbase, as debian:bookworm-slim)
#                          plus this machine's own Node 20 (binary, include/ headers,
#                          npm, corepack) under /usr/local as in the official image,
#                          a `node` user uid/gid 1000 with home /home/node, and the
#                          official entrypoint's behaviour (`docker-entrypoint.sh`).
#   postgres:15-bookworm   Debian bookworm's own PostgreSQL 15 (the official
#                          postgres:15-bookworm is also PostgreSQL 15 on bookworm,
#                          from the PGDG repository, which is not reachable here),
#                          with an entrypoint that honours POSTGRES_USER,
#                          POSTGRES_PASSWORD, POSTGRES_DB and PGDATA like the
#                          official one: initdb on an empty PGDATA, scram-sha-256
#                          for every TCP connection, listening on all addresses.
#   prom/prometheus:v2.42.0 Debian bookworm's own Prometheus 2.42.0 (the version of
#                          that tag), laid out as the official image is: /bin/prometheus
#                          and /bin/promtool, its configuration at
#                          /etc/prometheus/prometheus.yml, its data in the /prometheus
#                          volume, run as `nobody`, listening on 9090.
#
# A tag that exists is kept (delete it with `podman rmi` to rebuild); the
# debootstrapped root filesystem is cached as debian:bookworm-slim the same way.
# Run as root (debootstrap and chroot need it): bash scripts/container-base-images.sh
set -euo pipefail

MIRROR=${MQTT_OIDC_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN=docker.io/library/debian:bookworm-slim
NODE=docker.io/library/node:20-bookworm-slim
POSTGRES=docker.io/library/postgres:15-bookworm
PROMETHEUS=docker.io/prom/prometheus:v2.42.0

have() { podman image exists "$1"; }
work=$(mktemp -d /var/tmp/mqtt-oidc-base.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ! have "$DEBIAN"; then
  echo "base images: debootstrap bookworm (minbase) from $MIRROR" >&2
  rootfs=$work/rootfs
  debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # What debian:bookworm-slim adds to a minbase tree: no docs, man pages or
  # locales from later installs, apt caches cleaned after each install, the
  # same sources list and an empty apt list directory.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";
EOF
  printf 'APT::Install-Recommends "false";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${MIRROR%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  rm -f "$rootfs/etc/apt/sources.list"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
  tar -C "$rootfs" --numeric-owner -c . | podman import --quiet \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - "$DEBIAN" >/dev/null
fi

if ! have "$NODE"; then
  echo "base images: $NODE from $DEBIAN and this machine's Node $(node --version)" >&2
  # The host's Node install: the binary, its headers (node-gyp builds native
  # addons against them instead of downloading), npm and corepack.
  node_bin=$(readlink -f "$(command -v node)")
  prefix=$(dirname "$(dirname "$node_bin")")
  modules=$prefix/lib/node_modules
  [ -f "$prefix/include/node/node.h" ] || { echo "base images: no Node headers under $prefix/include/node" >&2; exit 1; }
  ctx=$work/node
  mkdir -p "$ctx/usr/local/bin" "$ctx/usr/local/include" "$ctx/usr/local/lib/node_modules"
  cp "$node_bin" "$ctx/usr/local/bin/node"
  cp -r "$prefix/include/node" "$ctx/usr/local/include/"
  for pkg in npm corepack; do [ -d "$modules/$pkg" ] && cp -r "$modules/$pkg" "$ctx/usr/local/lib/node_modules/"; done
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ctx/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$ctx/usr/local/bin/npx"
  [ -d "$modules/corepack" ] && ln -s ../lib/node_modules/corepack/dist/corepack.js "$ctx/usr/local/bin/corepack"
  # The official image's entrypoint: a first argument that is an option or
  # not a command runs under node.
  cat >"$ctx/usr/local/bin/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
EOF
  chmod 755 "$ctx/usr/local/bin/docker-entrypoint.sh"
  cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN
RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node
COPY usr/local/ /usr/local/
ENV NODE_VERSION=$(node --version | sed 's/^v//')
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["node"]
EOF
  podman build --quiet --pull=never -t "$NODE" "$ctx" >/dev/null
fi

if ! have "$POSTGRES"; then
  echo "base images: $POSTGRES from $DEBIAN and Debian's postgresql-15" >&2
  ctx=$work/postgres
  mkdir -p "$ctx"
  cat >"$ctx/docker-entrypoint.sh" <<'EOF'
#!/bin/bash
# What the official postgres image's entrypoint does, for the variables a
# compose file sets: POSTGRES_USER (default postgres), POSTGRES_PASSWORD
# (required unless POSTGRES_HOST_AUTH_METHOD=trust), POSTGRES_DB (default
# POSTGRES_USER), PGDATA; scripts in /docker-entrypoint-initdb.d run once.
set -Eeuo pipefail
if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" != 'postgres' ]; then exec "$@"; fi

if [ "$(id -u)" = '0' ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown -R postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_USER:=postgres}" "${POSTGRES_DB:=$POSTGRES_USER}" "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified. Set POSTGRES_PASSWORD.' >&2
    exit 1
  fi
  pwfile=$(mktemp)
  printf '%s' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" -D "$PGDATA" >/dev/null
  rm -f "$pwfile"
  printf '\nhost all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  # Set up on the Unix socket only, so nothing connects before it is ready.
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
  psql=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
  if [ "$POSTGRES_DB" != 'postgres' ]; then
    "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" -q <<<'CREATE DATABASE :"db";'
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) . "$f" ;;
      *.sql) "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  echo 'PostgreSQL init process complete; ready for start up.'
fi
exec postgres "${@:2}"
EOF
  chmod 755 "$ctx/docker-entrypoint.sh"
  cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN
# The official image's fixed ids, created before the package would pick others.
RUN groupadd -r postgres --gid=999 && useradd -r -g postgres --uid=999 --home-dir=/var/lib/postgresql --shell=/bin/bash postgres \\
 && mkdir -p /var/lib/postgresql /etc/postgresql-common /docker-entrypoint-initdb.d && chown postgres:postgres /var/lib/postgresql \\
 && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf \\
 && apt-get update && apt-get install -y --no-install-recommends postgresql-15 && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:\$PATH PGDATA=/var/lib/postgresql/data LANG=C.UTF-8
COPY docker-entrypoint.sh /usr/local/bin/
VOLUME /var/lib/postgresql/data
ENTRYPOINT ["docker-entrypoint.sh"]
STOPSIGNAL SIGINT
EXPOSE 5432
CMD ["postgres"]
EOF
  podman build --quiet --pull=never -t "$POSTGRES" "$ctx" >/dev/null
fi

if ! have "$PROMETHEUS"; then
  echo "base images: $PROMETHEUS from $DEBIAN and Debian's prometheus" >&2
  ctx=$work/prometheus
  mkdir -p "$ctx"
  cat >"$ctx/Containerfile" <<EOF
FROM $DEBIAN
# The official image's layout: binaries in /bin, the configuration in
# /etc/prometheus, data in /prometheus owned by nobody.
RUN apt-get update && apt-get install -y --no-install-recommends prometheus && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /prometheus && chown nobody:nogroup /prometheus \\
 && for b in prometheus promtool; do [ -e /bin/\$b ] || ln -s /usr/bin/\$b /bin/\$b; done
USER nobody
WORKDIR /prometheus
VOLUME /prometheus
EXPOSE 9090
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
EOF
  podman build --quiet --pull=never -t "$PROMETHEUS" "$ctx" >/dev/null
fi

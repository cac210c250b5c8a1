#!/usr/bin/env bash
# Makes a Debian bookworm machine, as root, run docker-compose.yml on podman
# the way CI does (test/docker-compose-podman.test.ts): installs podman and
# its compose front-end, and sets what this kind of machine needs. Each
# setting below is a workaround for one fact of the machine; none is needed
# on a desktop with Docker or with podman under systemd. Safe to run again.
#
#   bash scripts/podman-setup.sh
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
# podman-compose, not Debian's docker-compose (1.29, the Python v1) on
# podman's socket: that refuses the file's top-level `name:`, needs
# `podman system service` kept running, and waits forever on `depends_on:
# condition: service_healthy`, since nothing runs the health checks (below).
# podman-compose drives the podman CLI directly; what it lacks (`name:`,
# conditions, profiles) the README's podman commands work around.
# runc: crun 1.8 refuses this machine's hybrid cgroup v1/v2 layout.
# dnsname: containers find each other by service name on a CNI network
# (podman 4.3's default backend here).
# debootstrap: the local base-image stand-ins (scripts/container-base-images.sh).
PACKAGES=(podman podman-compose runc golang-github-containernetworking-plugin-dnsname iptables debootstrap)
missing=()
for p in "${PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

hard_nofile=$(ulimit -Hn)
nproc=$(( $(ulimit -Hu) < 32768 ? $(ulimit -Hu) : 32768 ))
mkdir -p /etc/containers/containers.conf.d
cat >/etc/containers/containers.conf.d/50-mqtt-oidc.conf <<EOF
# Written by mqtt-oidc's scripts/podman-setup.sh.
[containers]
# podman asks for more open files and processes than this machine allows
# (for root it sets nofile 1048576 and nproc 4194304; the hard nofile limit
# here is $hard_nofile) and every container fails to start with "error
# setting rlimits ... operation not permitted". nproc is refused even at the
# machine's own hard limit (seen at 65536 and up); 32768 is accepted and ample.
default_ulimits = ["nofile=$hard_nofile:$hard_nofile", "nproc=$nproc:$nproc"]

[engine]
# crun refuses the hybrid cgroup layout; runc runs on it.
runtime = "runc"
# No systemd: cgroups and events go straight to the kernel and to a file.
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
# No systemd also means no timers for health checks: podman runs a check only
# when asked (`podman healthcheck run <container>`), and `podman ps` shows
# "starting" until then. The compose test asks; by hand, ask the same way.

# syntax=docker/dockerfile:1
# One image with Parley's three servers and parleyctl in /usr/local/bin:
#   docker build -t parley:0.1.0 .
# The Kubernetes manifests (deploy/k8s) pick the binary with `command`.

# Builder: Debian 12 with the packages scripts/test installs (the list lives in
# scripts/lib.sh), then an optimised build of the servers and parleyctl.
FROM debian:bookworm AS builder
WORKDIR /src
COPY scripts/lib.sh scripts/lib.sh
RUN bash -c 'set -euo pipefail; source scripts/lib.sh; ensure_packages' && \
    rm -rf /var/lib/apt/lists/*
COPY . .
# --batch: no Bazel server outlives the step; --spawn_strategy=local: Docker's
# build container does not allow Bazel's sandbox namespaces. The binaries are
# copied out in the same step because bazel-bin lives in the cache mount.
RUN --mount=type=cache,target=/root/.cache/bazel \
    bazel --batch build -c opt --spawn_strategy=local \
      //services/coordinator:parley-coordinator \
      //cache_node:parley-cache-node \
      //services/runtime/server:parley-runtime \
      //tools/parleyctl && \
    mkdir -p /out && \
    cp bazel-bin/services/coordinator/parley-coordinator \
       bazel-bin/cache_node/parley-cache-node \
       bazel-bin/services/runtime/server/parley-runtime \
       bazel-bin/tools/parleyctl/parleyctl /out/

# Runtime: only the shared libraries the binaries link (their NEEDED entries,
# found with `ldd` and mapped to packages with `dpkg -S`; libc6, libgcc-s1 and
# zlib1g are in the base image); apt adds the libraries those depend on
# (libbrotli1, libgflags2.2, libsnappy1v5, libzstd1, ...).
FROM debian:bookworm-slim
RUN apt-get update && \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libabsl20220623 \
      libc-ares2 \
      libcpp-httplib0.11 \
      libfmt9 \
      libgrpc++1.51 \
      libgrpc29 \
      liblz4-1 \
      libprotobuf32 \
      libre2-9 \
      librocksdb7.8 \
      libspdlog1.10 \
      libssl3 \
      libstdc++6 \
      libyaml-cpp0.7 && \
    rm -rf /var/lib/apt/lists/* && \
    groupadd --gid 10001 parley && \
    useradd --uid 10001 --gid 10001 --system --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin parley && \
    mkdir -p /var/lib/parley && chown 10001:10001 /var/lib/parley
COPY --from=builder /out/ /usr/local/bin/
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
WORKDIR /var/lib/parley
# gRPC and metrics ports of the coordinator, cache nodes and runtime servers
# as the manifests use them.
EXPOSE 7400 7500 7600 9400 9500 9600
# The servers handle SIGTERM themselves (they block it and sigwait), which
# works as PID 1: no init process is needed.
CMD ["parley-coordinator", "--help"]

# Dockerfile - the zonewarden image (SPEC §11): built on Debian 12, run on debian:12-slim
# with only the runtime libraries, as a fixed non-root user (UID/GID 65532, the chart's
# runAsUser). tests/integration/docker.test checks that the runtime packages below provide
# every library the binary needs, and builds the image where a builder runs.
#
#   docker build -t zonewarden:0.1.0 .        (or: buildah bud / podman build)
#   docker run --rm zonewarden:0.1.0 version

# ---- build: the compiler and the -dev packages of the libraries the Makefile links
FROM debian:12 AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      make gcc libc6-dev pkg-config \
      libyaml-dev libcjson-dev libcurl4-openssl-dev libssl-dev libldns-dev libxml2-dev libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" zonewarden \
 && strip zonewarden \
 && ./zonewarden version

# ---- runtime: the shared libraries only (their packages pull their own dependencies),
# and the CA bundle libcurl needs for Route 53, Cloudflare and the Kubernetes API
FROM debian:12-slim
# runtime-packages (docker.test reads this list)
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libyaml-0-2 libcjson1 libcurl4 libssl3 libldns3 libxml2 libmicrohttpd12 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 zonewarden \
 && useradd --system --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin zonewarden
COPY --from=build /src/zonewarden /usr/local/bin/zonewarden
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["zonewarden"]
CMD ["run", "--kubernetes"]

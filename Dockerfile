# syntax=docker/dockerfile:1
# infrashare in a container: one static binary (pure Go, SQLite included)
# on a small Debian base. Build: docker build -t infrashare .
# Run with PostgreSQL: see compose.yaml and docs/operations.md.

# ---- build ---------------------------------------------------------------
FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# CGO_ENABLED=0: a static binary that needs no libc of the runtime image;
# -trimpath: no build-machine paths inside it.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/infrashare ./cmd/infrashare

# ---- runtime ---------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates for https webhooks and TLS to PostgreSQL (sslmode=verify-full);
# tzdata for the zone database (the binary also embeds one as a fallback).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 infrashare \
 && useradd --system --uid 10001 --gid infrashare --home-dir /var/lib/infrashare --shell /usr/sbin/nologin infrashare \
 && install -d -o infrashare -g infrashare -m 0750 /var/lib/infrashare
COPY --from=build /out/infrashare /usr/local/bin/infrashare

USER infrashare:infrashare
WORKDIR /var/lib/infrashare
# Without INFRASHARE_DATABASE_URL the container keeps an embedded SQLite file
# in this volume (one replica only); production sets a postgres:// URL.
ENV INFRASHARE_ADDR=:8080 \
    INFRASHARE_DATABASE_URL=sqlite:///var/lib/infrashare/infrashare.db
VOLUME ["/var/lib/infrashare"]
EXPOSE 8080

# Liveness through /healthz without curl in the image: bash's /dev/tcp sends
# one HTTP/1.0 request and the status line must say 200. (Load balancers
# should use /readyz, which also checks the database.) The port is the one
# of INFRASHARE_ADDR above; change both together.
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]

# SIGTERM lets in-flight requests finish (INFRASHARE_SHUTDOWN_TIMEOUT, 30 s
# by default): give the container a stop timeout above it.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/infrashare"]
CMD ["serve"]

# syntax=docker/dockerfile:1
# mamori in a container: a static binary (CGO_ENABLED=0) on a minimal base,
# running as a non-root user, with a HEALTHCHECK on mamori's health endpoint
# (200 while a WAF is loaded, 503 otherwise). See docs/install.md.
#
#   docker build -t mamori .
#   docker run -p 80:8080 -e MAMORI_UPSTREAM=cms:80 mamori
#   docker run -p 80:8080 -v $PWD/Caddyfile:/etc/mamori/Caddyfile:ro mamori

# Build stage: Go 1.27.3 (Go 1.26's net/http has known HTTP/2 and CONNECT
# vulnerabilities).
FROM golang:1.27.3-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# Coraza with mamori's patch (third_party/README.md): go.mod replaces it.
COPY third_party/coraza third_party/coraza
RUN go mod download
COPY . .
ARG MAMORI_VERSION=devel
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${MAMORI_VERSION}" -o /out/mamori ./cmd/mamori \
 && mkdir -p /out/var/log/mamori /out/var/lib/mamori /out/etc/mamori

# Run stage: CA certificates and time zones (distroless static), nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/mamori /usr/bin/mamori
COPY --from=build --chown=65532:65532 /out/var/log/mamori /var/log/mamori
COPY --from=build --chown=65532:65532 /out/var/lib/mamori /var/lib/mamori
COPY deploy/docker/Caddyfile /etc/mamori/Caddyfile
ENV HOME=/var/lib/mamori XDG_DATA_HOME=/var/lib/mamori XDG_CONFIG_HOME=/var/lib/mamori MAMORI_LOG_DIR=/var/log/mamori
# distroless's "nonroot" user (65532): mamori listens on 8080, not 80.
USER 65532:65532
EXPOSE 8080
VOLUME ["/var/log/mamori", "/var/lib/mamori"]
# The static image has no curl: `mamori health` asks the endpoint itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/bin/mamori", "health", "--url", "http://127.0.0.1:8080/.well-known/mamori/health"]
ENTRYPOINT ["/usr/bin/mamori"]
CMD ["run", "--config", "/etc/mamori/Caddyfile", "--adapter", "caddyfile"]

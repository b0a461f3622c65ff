# mamori's build, demo, test and benchmark commands.
# Go 1.27.3 is required (Go 1.26.8's net/http has known HTTP/2 and CONNECT
# vulnerabilities); the go command fetches it from the module proxy.
export GOTOOLCHAIN := go1.27.3
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build demo test lint vuln package fuzz bench bench-reload clean eval-traffic e2e-wordpress

build:
	go build -o bin/mamori ./cmd/mamori
	go build -o bin/upstream ./tests/upstream

# Runs mamori on built-in defaults in front of the built-in demo site.
demo: build
	./bin/mamori demo --listen 127.0.0.1:8080

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	go vet ./...
	go run $(STATICCHECK) ./...

# The whole test suite: lint, unit tests, end-to-end tests against the built
# binary and a real upstream, a real WordPress in a real browser, and the
# CRS v4.25.0 regression suite.
# The CRS suite runs verbosely so that its pass-rate line is printed.
test: build lint vuln package
	tests/setup.sh
	$(MAKE) fuzz
	MAMORI_BIN=$(CURDIR)/bin/mamori UPSTREAM_BIN=$(CURDIR)/bin/upstream MAMORI_DEB=$(CURDIR)/$(DEB) \
		go test -count=1 -timeout 20m $$(go list ./... | grep -v -e /tests/crs -e /tests/wordpress)
	cd third_party/libinjection-go && go test -count=1 .
	$(MAKE) e2e-wordpress
	MAMORI_BIN=$(CURDIR)/bin/mamori UPSTREAM_BIN=$(CURDIR)/bin/upstream \
		go test -count=1 -timeout 30m -v ./tests/crs/ | grep -v -e '^=== RUN'

# A real WordPress (Debian's 6.1), MariaDB, PHP and headless Chromium behind
# mamori (tests/wordpress): installs the packages when missing, then an
# editor and a visitor work in the browser and attacks follow. On failure the
# test logs the directory with the screenshots and logs
# (MAMORI_WP_ARTIFACTS=dir keeps them in dir).
e2e-wordpress: build
	tests/wordpress/setup.sh
	MAMORI_BIN=$(CURDIR)/bin/mamori UPSTREAM_BIN=$(CURDIR)/bin/upstream \
		go test -count=1 -timeout 10m -v ./tests/wordpress/ | grep -v -e '^=== RUN' -e '^=== PAUSE' -e '^=== CONT'

# The real-traffic evaluation on the whole corpus (16 847 requests, about
# 4-5 minutes on 2 cores); `make test` replays a hash-chosen quarter of it.
# The corpus is read from ../shared/corpora/ (or $$MAMORI_CORPORA).
eval-traffic: build
	MAMORI_BIN=$(CURDIR)/bin/mamori UPSTREAM_BIN=$(CURDIR)/bin/upstream MAMORI_TRAFFIC_FULL=1 \
		go test -count=1 -timeout 30m -v -run TestRealTraffic ./tests/eval/

# Known vulnerabilities: govulncheck against an offline copy of the Go
# vulnerability database, built from the golang.org/x/vulndb module on the
# module proxy (its data/osv/ and cmd/indexdb). Fails (exit 3) only on a
# vulnerability reachable from mamori's code. The database is built once per
# VULNDB version into tmp/vulndb/ (ignored by git); a temporary directory next
# to it is renamed into place, so an interrupted build is never used.
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB := golang.org/x/vulndb
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018
VULNDB_DIR := $(CURDIR)/tmp/vulndb/$(VULNDB_VERSION)
vuln:
	@if [ ! -f "$(VULNDB_DIR)/index/db.json" ]; then \
		echo "building the vulnerability database from $(VULNDB)@$(VULNDB_VERSION)"; \
		mkdir -p "$(dir $(VULNDB_DIR))"; \
		src=$$(go mod download -json $(VULNDB)@$(VULNDB_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
		[ -d "$$src/data/osv" ] || { echo "no data/osv in $(VULNDB)@$(VULNDB_VERSION)"; exit 1; }; \
		work=$$(mktemp -d "$(dir $(VULNDB_DIR))build.XXXXXX"); \
		trap 'rm -rf "$$work"' EXIT; \
		go run $(VULNDB)/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$src/data/osv" -out "$$work/db"; \
		rm -rf "$(VULNDB_DIR)"; mv "$$work/db" "$(VULNDB_DIR)"; \
	fi
	go run $(GOVULNCHECK) -db file://$(VULNDB_DIR) ./...

# The Debian package (deploy/nfpm.yaml): a static binary, the systemd unit
# deploy/mamori.service, /etc/mamori/Caddyfile (a conffile), the mamori user
# and /var/log/mamori (postinst). nfpm runs at a pinned version with `go run`,
# so it stays out of mamori's go.mod. Written to $(DEB); see docs/install.md.
NFPM := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.48.0
MAMORI_VERSION ?= 0.0.0+git$(shell git rev-list --count HEAD 2>/dev/null || echo 0).$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
DEB := bin/mamori_amd64.deb
package:
	mkdir -p bin/package
	CGO_ENABLED=0 go build -ldflags "-X main.Version=$(MAMORI_VERSION)" -o bin/package/mamori ./cmd/mamori
	MAMORI_VERSION='$(MAMORI_VERSION)' \
		go run $(NFPM) package --config deploy/nfpm.yaml --packager deb --target $(DEB)
	@echo "built $(DEB) (mamori $(MAMORI_VERSION))"

# Every parser and decoder of untrusted input, fuzzed briefly (their seed
# corpora also run in every `go test`). FUZZTIME=1m for a longer run.
FUZZTIME ?= 5s
FUZZ_TARGETS := \
	internal/session:FuzzOpen internal/session:FuzzDecodeEnvelope internal/session:FuzzCookieHeader \
	internal/csrf:FuzzCheck internal/request:FuzzNormalize internal/request:FuzzView internal/limits:FuzzScanner \
	internal/detect:FuzzDecode internal/vpatch:FuzzXMLRPCMethod internal/vpatch:FuzzUnsafeFilterItems \
	internal/vpatch:FuzzMulticallCalls internal/vpatch:FuzzFold \
	internal/events:FuzzRedactQuery internal/logchain:FuzzParse internal/headers:FuzzReadCSPReports
# Each run's output goes to a fresh temporary file, removed afterwards.
fuzz:
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) ./$$pkg/ > "$$log" 2>&1 || { cat "$$log"; exit 1; }; \
	done

# Load benchmark: plain Caddy (baseline), nginx, nginx + ModSecurity,
# coraza-caddy and mamori under wrk (tests/bench/README.md).
bench:
	tests/bench/run.sh

# Resident set over 100 rules reloads and 100 Caddyfile reloads under load.
bench-reload:
	tests/bench/reload-memory.sh

clean:
	rm -rf bin

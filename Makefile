# mamori's build, demo, test and benchmark commands.
# Go 1.27.3 is required (Go 1.26.8's net/http has known HTTP/2 and CONNECT
# vulnerabilities); the go command fetches it from the module proxy.
export GOTOOLCHAIN := go1.27.3
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build demo test lint fuzz bench clean eval-traffic e2e-wordpress

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
test: build lint
	tests/setup.sh
	$(MAKE) fuzz
	MAMORI_BIN=$(CURDIR)/bin/mamori UPSTREAM_BIN=$(CURDIR)/bin/upstream \
		go test -count=1 -timeout 20m $$(go list ./... | grep -v -e /tests/crs -e /tests/wordpress)
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

# Every parser and decoder of untrusted input, fuzzed briefly (their seed
# corpora also run in every `go test`). FUZZTIME=1m for a longer run.
FUZZTIME ?= 5s
FUZZ_TARGETS := \
	internal/session:FuzzOpen internal/session:FuzzDecodeEnvelope internal/session:FuzzCookieHeader \
	internal/csrf:FuzzCheck internal/request:FuzzNormalize internal/request:FuzzView internal/limits:FuzzScanner \
	internal/detect:FuzzDecode internal/vpatch:FuzzXMLRPCMethod internal/vpatch:FuzzUnsafeFilterItems \
	internal/events:FuzzRedactQuery internal/logchain:FuzzParse internal/headers:FuzzReadCSPReports
# Each run's output goes to a fresh temporary file, removed afterwards.
fuzz:
	@log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) ./$$pkg/ > "$$log" 2>&1 || { cat "$$log"; exit 1; }; \
	done

# Load benchmark: plain Caddy (baseline), mamori and coraza-caddy under wrk.
bench:
	tests/bench/run.sh

clean:
	rm -rf bin

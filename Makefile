# mamori's build, demo, test and benchmark commands.
# Go 1.27.3 is required (Go 1.26.8's net/http has known HTTP/2 and CONNECT
# vulnerabilities); the go command fetches it from the module proxy.
export GOTOOLCHAIN := go1.27.3
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build demo test lint fuzz bench bench-reload clean

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
# binary and a real upstream, and the CRS v4.25.0 regression suite.
# The CRS suite runs verbosely so that its pass-rate line is printed.
test: build lint
	tests/setup.sh
	$(MAKE) fuzz
	MAMORI_BIN=$(CURDIR)/bin/mamori UPSTREAM_BIN=$(CURDIR)/bin/upstream \
		go test -count=1 -timeout 20m $$(go list ./... | grep -v /tests/crs)
	MAMORI_BIN=$(CURDIR)/bin/mamori UPSTREAM_BIN=$(CURDIR)/bin/upstream \
		go test -count=1 -timeout 30m -v ./tests/crs/ | grep -v -e '^=== RUN'

# Every parser and decoder of untrusted input, fuzzed briefly (their seed
# corpora also run in every `go test`). FUZZTIME=1m for a longer run.
FUZZTIME ?= 5s
FUZZ_TARGETS := \
	internal/session:FuzzOpen internal/session:FuzzDecodeEnvelope internal/session:FuzzCookieHeader \
	internal/csrf:FuzzCheck internal/request:FuzzNormalize internal/request:FuzzView internal/limits:FuzzScanner \
	internal/detect:FuzzDecode internal/vpatch:FuzzXMLRPCMethod internal/vpatch:FuzzUnsafeFilterItems \
	internal/events:FuzzRedactQuery internal/logchain:FuzzParse internal/headers:FuzzReadCSPReports
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		go test -run '^$$' -fuzz "^$$fn$$" -fuzztime $(FUZZTIME) ./$$pkg/ > /tmp/mamori-fuzz.log 2>&1 || { cat /tmp/mamori-fuzz.log; exit 1; }; \
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

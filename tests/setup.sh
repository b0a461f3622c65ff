#!/usr/bin/env bash
# Installs the real services the end-to-end tests run against (Redis for
# shared state, rsyslog as a SIEM collector, hey for load during reloads)
# when they are missing. Idempotent; called by `make test`.
set -euo pipefail
need=()
command -v redis-server >/dev/null || need+=(redis-server)
command -v rsyslogd >/dev/null || [ -x /usr/sbin/rsyslogd ] || need+=(rsyslog)
command -v hey >/dev/null || need+=(hey)
# rsyslog's TLS driver, for the SIEM shipping test over TLS.
ls /usr/lib/*/rsyslog/lmnsd_gtls.so >/dev/null 2>&1 || need+=(rsyslog-gnutls)
# The real request parsers of the CMSs, for the request view's differential
# tests (internal/request) and the PATH_INFO/multipart/cookie regressions.
perl -MCGI -MCGI::Cookie -e1 >/dev/null 2>&1 || need+=(libcgi-pm-perl)
command -v php >/dev/null || need+=(php-cli)
# The package test (tests/package): adduser for the package's postinst,
# systemd-analyze to check its unit (systemd itself need not run).
command -v adduser >/dev/null || need+=(adduser)
command -v systemd-analyze >/dev/null || need+=(systemd)
# The block page in a real browser (tests/browser): headless Chromium, and a
# Japanese font so that the Japanese page's screenshot is legible.
command -v chromium >/dev/null || need+=(chromium)
ls /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf >/dev/null 2>&1 || need+=(fonts-ipafont-gothic)
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing ${need[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The packages' own services (started by apt on install) are left as they
# are: each test starts its own redis-server and rsyslogd on a free loopback
# port with a configuration and working directory of its own, so they never
# meet the machine's instances, and `make test` changes no service.
# promtool (Debian's prometheus package) checks deploy/prometheus's alert
# rules (tests/monitoring). Only the tool is extracted, into tmp/tools/
# (ignored by git): installing the package would start a Prometheus service.
tools="$(cd "$(dirname "$0")/.." && pwd)/tmp/tools"
if ! command -v promtool >/dev/null && [ ! -x "$tools/promtool" ]; then
	echo "extracting promtool from Debian's prometheus package into $tools"
	mkdir -p "$tools"
	dl=$(mktemp -d)
	chmod 755 "$dl" # apt's download sandbox user must write there
	(cd "$dl" && apt-get download -qq prometheus 2>/dev/null) || {
		sudo=""
		[ "$(id -u)" -eq 0 ] || sudo="sudo"
		$sudo apt-get update -qq
		(cd "$dl" && apt-get download -qq prometheus)
	}
	dpkg-deb --fsys-tarfile "$dl"/prometheus_*.deb | tar -x -C "$dl" ./usr/bin/promtool
	mv "$dl/usr/bin/promtool" "$tools/promtool.new" && mv "$tools/promtool.new" "$tools/promtool"
	rm -rf "$dl"
fi

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

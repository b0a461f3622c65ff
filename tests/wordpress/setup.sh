#!/usr/bin/env bash
# Installs what the WordPress end-to-end test runs: Debian's WordPress, MariaDB,
# PHP (the CLI's built-in server runs WordPress; php-mysql for its database),
# the Twenty Twenty-One theme and Chromium, when missing. Idempotent; called by `make e2e-wordpress`.
#
# The packages' own services (mariadb, apache2, php-fpm) must not start: the
# test runs its own MariaDB and PHP on loopback with their own data
# directories. A policy-rc.d that refuses every start (exit 101) is in place
# for the install only, and only when none was there before; a service that
# was already running is left alone.
set -euo pipefail
need=()
[ -f /usr/share/wordpress/wp-settings.php ] || need+=(wordpress)
# A classic theme: the Customizer's Additional CSS and menu locations.
[ -d /usr/share/wordpress/wp-content/themes/twentytwentyone ] || need+=(wordpress-theme-twentytwentyone)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v php >/dev/null || need+=(php-cli)
php -m 2>/dev/null | grep -i '^mysqli$' >/dev/null || need+=(php-mysql)
command -v chromium >/dev/null || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# mamori tests/wordpress/setup.sh: no service starts during the install\nexit 101\n' | $sudo tee "$policy" >/dev/null
	$sudo chmod 755 "$policy"
	ours=1
fi
cleanup() { if [ "$ours" = 1 ]; then $sudo rm -f "$policy"; fi; }
trap cleanup EXIT
echo "installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

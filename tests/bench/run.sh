#!/usr/bin/env bash
# Load benchmark: mamori vs plain Caddy, nginx, nginx + ModSecurity v3 and
# coraza-caddy, all in front of the same tiny upstream, driven by wrk over
# loopback. See tests/bench/README.md.
#
#   tests/bench/run.sh                      # 5s x 3 rounds per measurement
#   BENCH_DURATION=10s tests/bench/run.sh   # longer measurements
#   BENCH_MAMORI_OPTIONS="detection off" tests/bench/run.sh   # mamori without its detection layers
set -euo pipefail

export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

DURATION="${BENCH_DURATION:-5s}"
ROUNDS="${BENCH_ROUNDS:-3}"
WARMUP="${BENCH_WARMUP:-1s}"
# Built binaries are kept between runs (not under a fixed /tmp name); each
# run's configurations, logs and wrk output go to a fresh mktemp directory.
CACHE="${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mamori-bench}"
PORT_BASE="${BENCH_PORT_BASE:-}"
REBUILD="${BENCH_REBUILD:-0}"
# Options inside mamori's block, e.g. BENCH_MAMORI_OPTIONS="detection off"
# to measure CRS alone; empty = mamori's defaults.
MAMORI_OPTIONS="${BENCH_MAMORI_OPTIONS:-}"
THREADS=2
CONNS=32
WRK_TIMEOUT=10s # wrk's default (2s) turns slow WAF answers on a busy host into "errors"

CADDY_VERSION=v2.11.9
CORAZA_CADDY_MODULE=github.com/corazawaf/coraza-caddy/v2
CORAZA_CADDY_VERSION=v2.1.0

BIN="$CACHE/bin"
SRC="$CACHE/src"
RUN="$(mktemp -d "${TMPDIR:-/tmp}/mamori-bench.XXXXXX")"
NGINX_MODSEC_MODULE=/usr/lib/nginx/modules/ngx_http_modsecurity_module.so

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die() {
	printf '\nFAIL: %s\n' "$*" >&2
	exit 1
}

# to_seconds 10s|2m|1h|10 -> seconds (wrk duration syntax)
to_seconds() {
	local v=$1
	case "$v" in
	*[0-9]s) echo "${v%s}" ;;
	*[0-9]m) echo $((${v%m} * 60)) ;;
	*[0-9]h) echo $((${v%h} * 3600)) ;;
	*[0-9]) echo "$v" ;;
	*) die "bad duration '$v' (use e.g. 10s, 1m)" ;;
	esac
}
DURATION_S=$(to_seconds "$DURATION")
[[ $DURATION_S =~ ^[0-9]+$ && $DURATION_S -ge 1 ]] || die "BENCH_DURATION must be >= 1s (got '$DURATION')"
WARMUP_S=$(to_seconds "$WARMUP")
[[ $WARMUP_S =~ ^[0-9]+$ ]] || die "bad BENCH_WARMUP '$WARMUP'"
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "BENCH_ROUNDS must be >= 1 (got '$ROUNDS')"

# ---------------------------------------------------------------- processes

PIDS=()
cleanup() {
	local pid
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do
		wait "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------- tools

need_root() {
	if [[ $(id -u) -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root to run: $*"
	fi
}

# apt_install PKG...: installs Debian packages without starting their
# services: nginx's package would otherwise start a system nginx on port
# 80. A policy-rc.d that denies every start is put in place for the
# install when there is none, and removed afterwards.
apt_install() {
	local policy=/usr/sbin/policy-rc.d ours=0
	if [[ ! -e $policy ]]; then
		need_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy" || die "cannot write $policy"
		ours=1
	fi
	log "installing $*"
	need_root apt-get update -qq || true
	if ! need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null; then
		[[ $ours == 1 ]] && need_root rm -f "$policy"
		die "cannot install $*"
	fi
	[[ $ours == 1 ]] && need_root rm -f "$policy"
	return 0
}

MISSING=()
command -v wrk >/dev/null || MISSING+=(wrk)
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || MISSING+=(nginx)
[[ -f $NGINX_MODSEC_MODULE ]] || MISSING+=(libnginx-mod-http-modsecurity)
((${#MISSING[@]} == 0)) || apt_install "${MISSING[@]}"
command -v wrk >/dev/null || die "wrk is not installed"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[[ -x $NGINX ]] || die "nginx is not installed"
[[ -f $NGINX_MODSEC_MODULE ]] || die "the ModSecurity module for nginx ($NGINX_MODSEC_MODULE) is not installed"
command -v curl >/dev/null || die "curl is not installed"
command -v go >/dev/null || die "go is not installed"

# ------------------------------------------------------------------ builds

mkdir -p "$BIN" "$SRC"

log "building upstream and the CRS extractor"
(cd "$REPO_ROOT" && go build -o "$BIN/crsfiles" ./tests/bench/crsfiles) || die "cannot build tests/bench/crsfiles"
(cd "$REPO_ROOT" && go build -o "$BIN/upstream" ./tests/bench/upstream) || die "cannot build the upstream"

log "building mamori from $REPO_ROOT"
(cd "$REPO_ROOT" && go build -o "$BIN/mamori" ./cmd/mamori) || die "cannot build mamori (./cmd/mamori)"

# A baseline binary is rebuilt when the repo's go.mod changes (its
# dependency versions are copied from it), or when BENCH_REBUILD=1.
STAMP="$(cat "$REPO_ROOT/go.mod" "$REPO_ROOT/go.sum" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"

# build_caddy NAME [EXTRA_IMPORT EXTRA_MODULE@VERSION]
# Builds a throwaway main module under $SRC/NAME whose go.mod is the repo's
# (same Caddy, Coraza, CRS and shared dependency versions), without the
# replaces by mamori's patched copies (third_party/: Coraza,
# libinjection-go): coraza-caddy runs Coraza v3.8.1 and libinjection-go
# v0.3.3 as released.
build_caddy() {
	local name=$1 import=${2:-} extra=${3:-}
	local dir="$SRC/$name" out="$BIN/$name"
	if [[ $REBUILD != 1 && -x $out && -f $dir/.stamp && $(cat "$dir/.stamp") == "$STAMP" ]]; then
		log "reusing $out"
		return 0
	fi
	log "building $name"
	rm -rf "$dir"
	mkdir -p "$dir"
	sed -e "s#^module .*#module mamoribench/$name#" "$REPO_ROOT/go.mod" >"$dir/go.mod"
	cp "$REPO_ROOT/go.sum" "$dir/go.sum"
	{
		echo "// Generated by tests/bench/run.sh: Caddy with the standard modules${import:+ and $import}."
		echo "package main"
		echo
		echo "import ("
		echo "	caddycmd \"github.com/caddyserver/caddy/v2/cmd\""
		echo "	_ \"github.com/caddyserver/caddy/v2/modules/standard\""
		[[ -n $import ]] && echo "	_ \"$import\""
		echo ")"
		echo
		echo "func main() { caddycmd.Main() }"
	} >"$dir/main.go"
	# (&& chains: set -e does not apply inside a function called from `if !`.)
	(
		cd "$dir" &&
			go mod edit -require="github.com/caddyserver/caddy/v2@$CADDY_VERSION" &&
			for m in $(sed -n 's#^replace \([^ ]*\) => \./.*#\1#p' go.mod); do
				go mod edit -dropreplace="$m" || exit 1
			done &&
			{ [[ -z $extra ]] || go get "$extra"; } &&
			go build -mod=mod -o "$out.tmp" .
	) && mv "$out.tmp" "$out" && echo "$STAMP" >"$dir/.stamp"
}

build_caddy caddy || die "cannot build the plain Caddy baseline"

CORAZA_OK=1
# coraza-caddy's go.mod checksum is missing from sum.golang.org.
if ! GONOSUMDB="github.com/corazawaf/coraza-caddy${GONOSUMDB:+,$GONOSUMDB}" \
	build_caddy coraza-caddy "$CORAZA_CADDY_MODULE" "$CORAZA_CADDY_MODULE@$CORAZA_CADDY_VERSION"; then
	CORAZA_OK=0
	warn "coraza-caddy $CORAZA_CADDY_VERSION could not be built; benchmarking upstream, caddy and mamori only"
fi

# Targets in table order; upstream is served but not measured.
TARGETS=(caddy nginx nginx-modsec)
PROXIES=(caddy)
WAFS=(nginx-modsec mamori)
if [[ $CORAZA_OK == 1 ]]; then
	TARGETS+=(coraza-caddy)
	PROXIES+=(coraza-caddy)
	WAFS+=(coraza-caddy)
fi
TARGETS+=(mamori)
PROXIES+=(mamori)
declare -A LABEL=([caddy]="plain Caddy" [nginx]="nginx" [nginx-modsec]="nginx+ModSecurity" [coraza-caddy]="coraza-caddy" [mamori]="mamori")

log "module versions in the proxy binaries:"
for p in "${PROXIES[@]}"; do
	go version -m "$BIN/$p" | awk -v p="$p" '$1 == "dep" && ($2 == "github.com/caddyserver/caddy/v2" || $2 == "github.com/corazawaf/coraza/v3" || $2 == "github.com/corazawaf/coraza-coreruleset/v4" || $2 == "github.com/corazawaf/coraza-caddy/v2") { printf "    %-13s %s %s\n", p, $2, $3 }' >&2
done

NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')
MODSEC_VERSION=$(dpkg-query -W -f '${Version}' libmodsecurity3 2>/dev/null || echo "?")
printf '    %-13s %s, libmodsecurity3 %s (Debian)\n' nginx "$NGINX_VERSION" "$MODSEC_VERSION" >&2

# ----------------------------------------------------------------- servers

mkdir -p "$RUN/data" "$RUN/config"
NPORTS=6

# Ports: upstream = base, caddy = base+1, mamori = base+2, coraza-caddy = base+3,
# nginx = base+4, nginx-modsec = base+5.
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
ports_free() {
	local i
	for ((i = 0; i < NPORTS; i++)); do
		port_busy $(($1 + i)) && return 1
	done
	return 0
}
if [[ -n $PORT_BASE ]]; then
	[[ $PORT_BASE =~ ^[0-9]+$ ]] || die "bad BENCH_PORT_BASE '$PORT_BASE'"
	ports_free "$PORT_BASE" || die "a port in $PORT_BASE..$((PORT_BASE + NPORTS - 1)) is already in use; pick another BENCH_PORT_BASE"
else
	for PORT_BASE in 28080 28180 28280 28380 28480 28580 28680 28780 28880 28980 ""; do
		[[ -n $PORT_BASE ]] && ports_free "$PORT_BASE" && break
	done
	[[ -n $PORT_BASE ]] || die "no free block of $NPORTS ports found in 28080..28985; set BENCH_PORT_BASE"
fi
UPSTREAM_PORT=$PORT_BASE
declare -A PORT=(
	[upstream]=$PORT_BASE
	[caddy]=$((PORT_BASE + 1))
	[mamori]=$((PORT_BASE + 2))
	[coraza-caddy]=$((PORT_BASE + 3))
	[nginx]=$((PORT_BASE + 4))
	[nginx-modsec]=$((PORT_BASE + 5))
)
log "ports: upstream=${PORT[upstream]} caddy=${PORT[caddy]} mamori=${PORT[mamori]} coraza-caddy=${PORT[coraza-caddy]} nginx=${PORT[nginx]} nginx-modsec=${PORT[nginx-modsec]}"

GLOBAL_OPTS='	admin off
	auto_https off
	persist_config off
	log {
		level WARN
	}'

cat >"$RUN/caddy.Caddyfile" <<EOF
{
$GLOBAL_OPTS
}

http://127.0.0.1:${PORT[caddy]} {
	reverse_proxy 127.0.0.1:$UPSTREAM_PORT
}
EOF

cat >"$RUN/mamori.Caddyfile" <<EOF
{
$GLOBAL_OPTS
}

http://127.0.0.1:${PORT[mamori]} {
	mamori {
		$MAMORI_OPTIONS
	}
	reverse_proxy 127.0.0.1:$UPSTREAM_PORT
}
EOF

cat >"$RUN/coraza-caddy.Caddyfile" <<EOF
{
$GLOBAL_OPTS
	order coraza_waf first
}

http://127.0.0.1:${PORT[coraza-caddy]} {
	coraza_waf {
		load_owasp_crs
		directives \`
			Include @coraza.conf-recommended
			Include @crs-setup.conf.example
			Include @owasp_crs/*.conf
			SecRuleEngine On
		\`
	}
	reverse_proxy 127.0.0.1:$UPSTREAM_PORT
}
EOF

# nginx and nginx + ModSecurity: one nginx process tree each (so each
# one's CPU is counted apart), own config, pid file, logs and temp dirs in
# $RUN; no access log, like the Caddy targets.
"$BIN/crsfiles" -out "$RUN/crs" || die "cannot extract the CRS files"
# libmodsecurity 3.0.9 cannot Include a file whose name has an '@'
# ("input in flex scanner failed"), and wants an action list on every
# SecRule: the two action-less chained rules of 949111 and 959xxx get
# "t:none" (a no-op). The rules are otherwise the very same.
mv "$RUN/crs/@owasp_crs" "$RUN/crs/rules"
mv "$RUN/crs/@crs-setup.conf.example" "$RUN/crs/crs-setup.conf"
sed -i -E 's/^(\s*SecRule [^ ]+ "[^"]*")\s*$/\1 "t:none"/' "$RUN/crs/rules/"*.conf
mkdir -p "$RUN/modsec-tmp" "$RUN/modsec-data"
# The same settings as coraza.conf-recommended (which coraza-caddy loads;
# mamori's defaults match them): request bodies, and text/html, text/plain
# and text/xml response bodies inspected; blocking; no audit log.
cat >"$RUN/modsec.conf" <<EOF
SecRuleEngine On
SecRequestBodyAccess On
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" \
     "id:'200000',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" \
     "id:'200001',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" \
     "id:'200006',phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecRule REQBODY_ERROR "!@eq 0" \
    "id:'200002', phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" \
    "id:'200003',phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation.'"
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecTmpDir $RUN/modsec-tmp
SecDataDir $RUN/modsec-data
SecAuditEngine Off
Include $RUN/crs/crs-setup.conf
Include $RUN/crs/rules/*.conf
EOF

# nginx_conf NAME PORT [MODSEC]: writes $RUN/NAME.nginx.conf
nginx_conf() {
	local name=$1 port=$2 modsec=${3:-} dir="$RUN/$1.nginx"
	mkdir -p "$dir"
	{
		[[ -n $modsec ]] && echo "load_module $NGINX_MODSEC_MODULE;"
		cat <<EOF
worker_processes auto;
error_log $RUN/$name.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $dir/body;
	proxy_temp_path $dir/proxy;
	fastcgi_temp_path $dir/fastcgi;
	uwsgi_temp_path $dir/uwsgi;
	scgi_temp_path $dir/scgi;
	upstream backend {
		server 127.0.0.1:$UPSTREAM_PORT;
		keepalive 64;
	}
	server {
		listen 127.0.0.1:$port;
EOF
		[[ -n $modsec ]] && printf '\t\tmodsecurity on;\n\t\tmodsecurity_rules_file %s;\n' "$RUN/modsec.conf"
		cat <<EOF
		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host \$host;
		}
	}
}
EOF
	} >"$RUN/$name.nginx.conf"
}
nginx_conf nginx "${PORT[nginx]}"
nginx_conf nginx-modsec "${PORT[nginx-modsec]}" modsec

# start NAME CMD... : runs CMD in the background, output in $RUN/NAME.log
declare -A PID_OF
start() {
	local name=$1
	shift
	XDG_DATA_HOME="$RUN/data" XDG_CONFIG_HOME="$RUN/config" "$@" >"$RUN/$name.log" 2>&1 &
	PIDS+=($!)
	PID_OF[$name]=$!
}

wait_ready() {
	local name=$1 port=${PORT[$1]} i code
	for ((i = 0; i < 300; i++)); do
		if ! kill -0 "${PID_OF[$name]}" 2>/dev/null; then
			tail -n 30 "$RUN/$name.log" >&2 || true
			die "$name exited during startup (log: $RUN/$name.log)"
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/" || true)
		[[ $code != 000 ]] && return 0
		sleep 0.1
	done
	tail -n 30 "$RUN/$name.log" >&2 || true
	die "$name did not answer on 127.0.0.1:$port within 30s"
}

log "starting servers (logs in $RUN)"
start upstream "$BIN/upstream" -listen "127.0.0.1:$UPSTREAM_PORT"
for p in "${PROXIES[@]}"; do
	start "$p" "$BIN/$p" run --config "$RUN/$p.Caddyfile" --adapter caddyfile
done
for n in nginx nginx-modsec; do
	# -e: the error log before the configuration is read (not /var/log/nginx).
	start "$n.stderr" "$NGINX" -p "$RUN/$n.nginx" -e "$RUN/$n.log" -c "$RUN/$n.nginx.conf" \
		-g "daemon off; pid $RUN/$n.pid;"
	PID_OF[$n]=${PID_OF[$n.stderr]}
done
wait_ready upstream
for t in "${TARGETS[@]}"; do
	wait_ready "$t"
done

# --------------------------------------------------------------- scenarios

QUERY="/?p1=alpha&p2=bravo&p3=charlie&p4=delta&p5=echo&p6=foxtrot&p7=golf&p8=hotel&p9=india&p10=juliett"
QUERY+="&p11=kilo&p12=lima&p13=mike&p14=november&p15=oscar&p16=papa&p17=quebec&p18=romeo&p19=sierra&p20=tango"
FORM_BODY="$SCRIPT_DIR/form-body.txt"
POST_LUA="$SCRIPT_DIR/post.lua"
[[ -f $FORM_BODY && -f $POST_LUA ]] || die "missing $FORM_BODY or $POST_LUA"

SCENARIOS=(get-page post-form get-query20)
declare -A SC_PATH=([get-page]=/page [post-form]=/form [get-query20]="$QUERY")
declare -A SC_DESC=(
	[get-page]="GET /page (8 KiB text/html response)"
	[post-form]="POST /form (2 KiB urlencoded body)"
	[get-query20]="GET /?p1..p20 (20 query parameters)"
)
ATTACK="/?id=1'%20OR%20'1'='1"

# Markers of the upstream's answers: a proxy that answers 200 without
# reaching the upstream (e.g. a Caddy site that does not match the Host
# header answers an empty 200, very fast) fails the pre-flight.
declare -A SC_MARKER=([get-page]="Riverside Community Garden" [post-form]="<p>ok</p>" [get-query20]="<p>ok</p>")

# fetch TARGET SCENARIO OUTFILE -> "code size" (body in OUTFILE)
fetch() {
	local url="http://127.0.0.1:${PORT[$1]}${SC_PATH[$2]}"
	if [[ $2 == post-form ]]; then
		curl -g -s -o "$3" -w '%{http_code} %{size_download}' --max-time 10 \
			-H 'Content-Type: application/x-www-form-urlencoded' --data-binary "@$FORM_BODY" "$url" || echo "000 0"
	else
		curl -g -s -o "$3" -w '%{http_code} %{size_download}' --max-time 10 "$url" || echo "000 0"
	fi
}

log "pre-flight checks"
for s in "${SCENARIOS[@]}"; do
	for t in "${TARGETS[@]}"; do
		body="$RUN/preflight-$s-$t.body"
		read -r code size <<<"$(fetch "$t" "$s" "$body")"
		if [[ $code != 200 ]]; then
			tail -n 20 "$RUN/$t.log" >&2 || true
			die "$t answered $code (want 200) to the $s request ${SC_PATH[$s]}"
		fi
		if [[ $s == get-page && $size != 8192 ]]; then
			die "$t returned $size bytes for /page (want 8192)"
		fi
		grep -qF -- "${SC_MARKER[$s]}" "$body" ||
			die "$t answered 200 to $s but not with the upstream's page (no '${SC_MARKER[$s]}' in $body)"
	done
done
for w in "${WAFS[@]}"; do
	code=$(curl -g -s -o /dev/null -w '%{http_code}' --max-time 10 "http://127.0.0.1:${PORT[$w]}$ATTACK" || echo 000)
	[[ $code == 403 ]] || die "$w answered $code (want 403) to the SQL injection probe $ATTACK"
done
log "pre-flight OK: every target answers each scenario with the upstream's page; ${WAFS[*]} answer 403 to $ATTACK"

# ---------------------------------------------------------------- measure

# to_ms 1.23ms|456.78us|1.02s -> milliseconds
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else printf "nan"
	}'
}

# Sums over the rounds, per scenario/target.
declare -A RPS_SUM P99_MAX P99_SUM ERRS TICKS REQS
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
# cpu_ticks PID -> utime+stime of the process and its children (all
# threads), in clock ticks
cpu_ticks() {
	local p sum=0 t
	for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
		t=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }')
		sum=$((sum + ${t:-0}))
	done
	echo "$sum"
}
BAD=0
run_wrk() { # target scenario duration outfile
	local t=$1 s=$2 d=$3 out=$4 d_s
	local url="http://127.0.0.1:${PORT[$t]}${SC_PATH[$s]}"
	local args=(-t"$THREADS" -c"$CONNS" -d"$d" --timeout "$WRK_TIMEOUT" --latency)
	[[ $s == post-form ]] && args+=(-s "$POST_LUA")
	d_s=$(to_seconds "$d")
	timeout --foreground -k 5 $((d_s + 30)) wrk "${args[@]}" "$url" >"$out" 2>&1
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
if awk -v l="${LOAD_BEFORE%% *}" -v n="$(nproc)" 'BEGIN { exit !(l + 0 > n / 2) }'; then
	warn "load average is $LOAD_BEFORE on $(nproc) CPUs before measuring: other work on this machine will skew the numbers"
fi

total=$(( ${#SCENARIOS[@]} * ${#TARGETS[@]} * (ROUNDS * DURATION_S + WARMUP_S) ))
log "measuring: $ROUNDS rounds x ${#SCENARIOS[@]} scenarios x ${#TARGETS[@]} targets, wrk -t$THREADS -c$CONNS -d$DURATION (+${WARMUP} warm-up in round 1), about ${total}s"
# Rounds alternate the targets (each round measures every target once per
# scenario, starting with a different target each round), so a burst of
# other load on the machine spreads over all of them instead of
# falling on one.
NT=${#TARGETS[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	for s in "${SCENARIOS[@]}"; do
		for ((k = 0; k < NT; k++)); do
			t=${TARGETS[$(((k + r - 1) % NT))]}
			if ((r == 1 && WARMUP_S > 0)); then
				run_wrk "$t" "$s" "$WARMUP" "$RUN/warmup-$s-$t.txt" || die "wrk warm-up failed for $t/$s (see $RUN/warmup-$s-$t.txt)"
			fi
			out="$RUN/wrk-$s-$t-r$r.txt"
			kill -0 "${PID_OF[$t]}" 2>/dev/null || die "$t is no longer running (log: $RUN/$t.log)"
			cpu0=$(cpu_ticks "${PID_OF[$t]}")
			run_wrk "$t" "$s" "$DURATION" "$out" || { cat "$out" >&2; die "wrk failed for $t/$s"; }
			cpu1=$(cpu_ticks "${PID_OF[$t]}")
			nreq=$(awk '/requests in/ { print $1 }' "$out")
			rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
			p99=$(awk '$1 == "99%" { print $2 }' "$out")
			[[ -n $rps && -n $p99 && -n $nreq ]] || { cat "$out" >&2; die "cannot parse wrk output for $t/$s"; }
			p99=$(to_ms "$p99")
			non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$out")
			sockerr=$(awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }' "$out")
			key=$s/$t
			RPS_SUM[$key]=$(awk -v a="${RPS_SUM[$key]:-0}" -v b="$rps" 'BEGIN { printf "%.2f", a + b }')
			P99_SUM[$key]=$(awk -v a="${P99_SUM[$key]:-0}" -v b="$p99" 'BEGIN { printf "%.3f", a + b }')
			P99_MAX[$key]=$(awk -v a="${P99_MAX[$key]:-0}" -v b="$p99" 'BEGIN { printf "%.2f", (b > a ? b : a) }')
			TICKS[$key]=$(( ${TICKS[$key]:-0} + cpu1 - cpu0 ))
			REQS[$key]=$(( ${REQS[$key]:-0} + nreq ))
			errs=$(( ${non2xx:-0} + ${sockerr:-0} ))
			ERRS[$key]=$(( ${ERRS[$key]:-0} + errs ))
			if ((errs > 0)); then
				BAD=1
				warn "$t/$s round $r: ${non2xx:-0} non-2xx/3xx responses, ${sockerr:-0} socket errors (see $out)"
			fi
			printf '    round %d  %-12s %-13s %12s req/s  p99 %s ms\n' "$r" "$s" "$t" "$rps" "$p99" >&2
		done
	done
done

# ------------------------------------------------------------------ report

declare -A RPS P99 CPU
for s in "${SCENARIOS[@]}"; do
	for t in "${TARGETS[@]}"; do
		key=$s/$t
		RPS[$key]=$(awk -v a="${RPS_SUM[$key]}" -v n="$ROUNDS" 'BEGIN { printf "%.0f", a / n }')
		P99[$key]=$(awk -v a="${P99_SUM[$key]}" -v n="$ROUNDS" 'BEGIN { printf "%.2f", a / n }')
		CPU[$key]=$(awk -v t="${TICKS[$key]}" -v n="${REQS[$key]}" -v hz="$CLK_TCK" \
			'BEGIN { if (n > 0) printf "%.3f", t * 1000 / hz / n; else printf "n/a" }')
	done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }

echo
echo "mamori load benchmark: wrk -t$THREADS -c$CONNS -d$DURATION --timeout $WRK_TIMEOUT --latency, $ROUNDS rounds alternating, loopback, $(nproc) CPUs"
echo "peers: Caddy $CADDY_VERSION; $NGINX_VERSION (ModSecurity $MODSEC_VERSION, Debian); coraza-caddy $CORAZA_CADDY_VERSION; mamori (${MAMORI_OPTIONS:-defaults}); every WAF runs CRS 4.25 PL1, request bodies and text/html responses inspected"
echo "load average before: $LOAD_BEFORE, after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")"
echo "(requests/s and p99 = mean over the rounds; ratio = requests/s / plain Caddy's in this run;"
echo " cpu ms/req = CPU time of the target's processes during the measurements / their requests)"
echo
printf '%-12s %-18s %11s %6s %9s %9s %11s %7s\n' scenario peer "requests/s" ratio "p99 ms" "p99 max" "cpu ms/req" errors
printf '%-12s %-18s %11s %6s %9s %9s %11s %7s\n' ------------ ------------------ ----------- ------ --------- --------- ----------- -------
for s in "${SCENARIOS[@]}"; do
	for t in "${TARGETS[@]}"; do
		printf '%-12s %-18s %11s %6s %9s %9s %11s %7s\n' "$s" "${LABEL[$t]}" "${RPS[$s/$t]}" \
			"$(ratio "${RPS[$s/$t]}" "${RPS[$s/caddy]}")" "${P99[$s/$t]}" "${P99_MAX[$s/$t]}" "${CPU[$s/$t]}" "${ERRS[$s/$t]}"
	done
done
echo
for s in "${SCENARIOS[@]}"; do
	line="mamori/nginx+ModSecurity=$(ratio "${RPS[$s/mamori]}" "${RPS[$s/nginx-modsec]}")"
	line+=" mamori/caddy=$(ratio "${RPS[$s/mamori]}" "${RPS[$s/caddy]}")"
	line+=" nginx+ModSecurity/caddy=$(ratio "${RPS[$s/nginx-modsec]}" "${RPS[$s/caddy]}")"
	if [[ $CORAZA_OK == 1 ]]; then
		line+=" coraza-caddy/caddy=$(ratio "${RPS[$s/coraza-caddy]}" "${RPS[$s/caddy]}")"
	fi
	printf '%-12s %s    # %s\n' "$s" "$line" "${SC_DESC[$s]}"
done
[[ $CORAZA_OK == 1 ]] || echo "NOTE: coraza-caddy $CORAZA_CADDY_VERSION could not be built; it is missing from this run."
echo
echo "raw wrk output, configurations and server logs: $RUN"

if [[ $BAD == 1 ]]; then
	warn "some measurements saw non-2xx responses or socket errors (errors column); their numbers are not comparable"
	exit 2
fi

#!/usr/bin/env bash
# Memory over reloads (issue 12): runs mamori with two sites sharing one
# patch file under hey load, then N times changes the patch and runs
# `mamori reload-rules`, and N times `mamori reload --force` (a Caddyfile
# reload), interleaved, and prints mamori's resident set after the first
# of each and after all of them (the median of BENCH_RELOAD_SAMPLES
# readings half a second apart: one reading swings by tens of MB with the
# moment of Go's collection cycle), its live Go heap and its goroutines.
# See tests/bench/README.md.
#
#   tests/bench/reload-memory.sh                 # 100 + 100 reloads
#   BENCH_RELOADS=20 tests/bench/reload-memory.sh
#   BENCH_RELOAD_DRAIN=150 ...        # one more reading after 150 s more load
#   BENCH_RELOAD_UPSTREAM_KEEPALIVE=10s ...  # reverse_proxy keepalive idle timeout
#   BENCH_RELOAD_PROFILE=wordpress ...  # both sites with a CMS profile (its rule packs)
#
# (hey sends a Content-Type even on GET: a form type, which CRS allows.)
# Exit status 1 when the resident set at the end is more than 10 % above
# the one after the first reloads.
set -euo pipefail

export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.27.3}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
RELOADS="${BENCH_RELOADS:-100}"
CONC="${BENCH_RELOAD_CONNS:-8}"
RATE="${BENCH_RELOAD_QPS:-50}" # per connection (hey -q): steady load, not saturation
SETTLE="${BENCH_RELOAD_SETTLE:-5}"
ONLY="${BENCH_RELOAD_ONLY:-}" # "rules" or "caddyfile": one kind of reload only
SAME="${BENCH_RELOAD_SAME:-0}"  # 1: the patch never changes (no new rule set to compile)
DRAIN="${BENCH_RELOAD_DRAIN:-0}" # seconds of more load, then one more reading
KEEPALIVE="${BENCH_RELOAD_UPSTREAM_KEEPALIVE:-}" # reverse_proxy's keep-alive idle timeout (Caddy's default: 2m)
PROFILE="${BENCH_RELOAD_PROFILE:-}" # a CMS profile for both sites (movabletype, wordpress)
SAMPLES="${BENCH_RELOAD_SAMPLES:-11}" # resident-set readings per figure (their median)

log() { printf '==> %s\n' "$*" >&2; }
die() {
	printf '\nFAIL: %s\n' "$*" >&2
	exit 1
}
[[ $RELOADS =~ ^[1-9][0-9]*$ ]] || die "BENCH_RELOADS must be >= 1"
[[ $SAMPLES =~ ^[1-9][0-9]*$ ]] || die "BENCH_RELOAD_SAMPLES must be >= 1"
command -v hey >/dev/null || die "hey is not installed (tests/setup.sh installs it)"
command -v curl >/dev/null || die "curl is not installed"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mamori-reload.XXXXXX")"
PIDS=()
cleanup() {
	local pid
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do kill "$pid" 2>/dev/null || true; done
	for pid in ${PIDS[@]+"${PIDS[@]}"}; do wait "$pid" 2>/dev/null || true; done
	if [[ ${KEEP:-0} == 1 ]]; then
		echo "logs: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "building mamori and the upstream in $WORK"
(cd "$REPO_ROOT" && go build -o "$WORK/mamori" ./cmd/mamori && go build -o "$WORK/upstream" ./tests/bench/upstream) ||
	die "cannot build"

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p i
	for ((i = 0; i < 200; i++)); do
		p=$((20000 + RANDOM % 40000))
		port_busy "$p" || { echo "$p"; return 0; }
	done
	die "no free port"
}
UP=$(free_port)
ADMIN=$(free_port)
S1=$(free_port)
S2=$(free_port)

mkdir -p "$WORK/patches" "$WORK/data" "$WORK/config"
# write_patch N: a patch whose rule differs with N (a new rule set each time)
write_patch() {
	printf 'SecRule ARGS:reload_probe "@streq %s" "id:1000001,phase:1,deny,status:403,log,msg:'"'"'reload %s'"'"'"\n' "$1" "$1" \
		>"$WORK/patches/patch.conf.tmp"
	mv "$WORK/patches/patch.conf.tmp" "$WORK/patches/patch.conf"
}
write_patch 0

PROXY_OPTS=""
[[ -z $KEEPALIVE ]] || PROXY_OPTS=" {
		transport http {
			keepalive $KEEPALIVE
		}
	}"
PROFILE_OPT=""
[[ -z $PROFILE ]] || PROFILE_OPT="
		profile $PROFILE"
cat >"$WORK/Caddyfile" <<EOF
{
	admin 127.0.0.1:$ADMIN
	auto_https off
	persist_config off
	log {
		level INFO
	}
}

http://127.0.0.1:$S1 {
	mamori {
		include $WORK/patches/*.conf$PROFILE_OPT
		access_log off
	}
	reverse_proxy 127.0.0.1:$UP$PROXY_OPTS
}

http://127.0.0.1:$S2 {
	mamori {
		include $WORK/patches/*.conf$PROFILE_OPT
		access_log off
	}
	reverse_proxy 127.0.0.1:$UP$PROXY_OPTS
}
EOF

export XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config"
"$WORK/upstream" -listen "127.0.0.1:$UP" >"$WORK/upstream.log" 2>&1 &
UPSTREAM=$!
PIDS+=($UPSTREAM)
for ((i = 0; i < 100; i++)); do # a port taken meanwhile by another process: say so
	kill -0 "$UPSTREAM" 2>/dev/null || { cat "$WORK/upstream.log" >&2; die "the upstream exited (port $UP taken?)"; }
	grep -q listening "$WORK/upstream.log" && break
	sleep 0.1
done
"$WORK/mamori" run --config "$WORK/Caddyfile" --adapter caddyfile >"$WORK/mamori.log" 2>&1 &
MAMORI=$!
PIDS+=($MAMORI)
for ((i = 0; i < 600; i++)); do
	kill -0 "$MAMORI" 2>/dev/null || { tail -n 30 "$WORK/mamori.log" >&2; die "mamori exited"; }
	[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$S2/" || true) == 200 ]] && break
	sleep 0.1
done
for s in $S1 $S2; do
	body=$(curl -s "http://127.0.0.1:$s/page" || true)
	[[ $body == *"Riverside Community Garden"* ]] || die "site $s does not answer with the upstream's page"
done

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$MAMORI/status"; }
# rss_median NAME: SAMPLES readings of the resident set, half a second
# apart, under the load; sets NAME (the median), NAME_MIN and NAME_MAX.
# One reading depends on where Go's collection cycle is (the heap grows
# to twice the live heap between collections): the median of several is
# a steadier figure to compare.
rss_median() {
	local i v=()
	for ((i = 0; i < SAMPLES; i++)); do
		((i == 0)) || sleep 0.5
		v+=("$(rss_kib)")
	done
	mapfile -t v < <(printf '%s\n' "${v[@]}" | sort -n)
	printf -v "$1" '%s' "${v[$((SAMPLES / 2))]}"
	printf -v "$1_MIN" '%s' "${v[0]}"
	printf -v "$1_MAX" '%s' "${v[$((SAMPLES - 1))]}"
}
# profiles NAME: a heap profile taken right after a forced collection
# (the admin API's heap profile with gc=1 runs one: NAME.heap.pb.gz;
# compare two with go tool pprof -base first.heap.pb.gz end.heap.pb.gz),
# a goroutine dump (NAME.goroutines.txt) and the Go runtime's memory
# figures (NAME.memstats.txt), in the work directory (kept with KEEP=1).
profiles() {
	curl -s -o "$WORK/$1.heap.pb.gz" "http://127.0.0.1:$ADMIN/debug/pprof/heap?gc=1" || true
	curl -s -o "$WORK/$1.goroutines.txt" "http://127.0.0.1:$ADMIN/debug/pprof/goroutine?debug=1" || true
	curl -s "http://127.0.0.1:$ADMIN/metrics" | grep -E '^go_(memstats|goroutines)' >"$WORK/$1.memstats.txt" || true
}
# live_kib NAME: the live Go heap in profile NAME (what is still reachable
# after the collection, as opposed to garbage and memory the runtime
# keeps for reuse), from the profile's total.
live_kib() {
	go tool pprof -sample_index=inuse_space -top -nodecount=1 "$WORK/$1.heap.pb.gz" 2>/dev/null |
		awk '/% of .* total/ { v = $(NF - 1); u = v; sub(/^[0-9.]+/, "", u); sub(/[a-zA-Z]+$/, "", v)
			m = (u == "B") ? 1 / 1024 : (u == "kB") ? 1 : (u == "MB") ? 1024 : (u == "GB") ? 1048576 : 0
			printf "%d", v * m; exit }'
}
# goroutines NAME: how many goroutines the dump of moment NAME counted.
goroutines() { awk 'NR == 1 { print $NF }' "$WORK/$1.goroutines.txt" 2>/dev/null; }
compiled() { grep -c '"WAF compiled"' "$WORK/mamori.log" || true; }
rules() {
	"$WORK/mamori" reload-rules --address "127.0.0.1:$ADMIN" >>"$WORK/reload-rules.log" 2>&1 ||
		{ tail -n 5 "$WORK/reload-rules.log" >&2; die "mamori reload-rules failed"; }
}
caddyfile() {
	"$WORK/mamori" reload --force --address "127.0.0.1:$ADMIN" --config "$WORK/Caddyfile" --adapter caddyfile \
		>>"$WORK/reload.log" 2>&1 || { tail -n 5 "$WORK/reload.log" >&2; die "mamori reload failed"; }
}
check_patch() { # N: both sites refuse the probe with value N
	local s code
	for s in $S1 $S2; do
		code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$s/?reload_probe=$1" || true)
		[[ $code == 403 ]] || die "after reload $1, site $s answered $code to the patched probe (want 403)"
	done
}

log "load: hey -c $CONC -q $RATE on both sites (GET /page and the 20-parameter GET)"
UA="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
Q="/?p1=alpha&p2=bravo&p3=charlie&p4=delta&p5=echo&p6=foxtrot&p7=golf&p8=hotel&p9=india&p10=juliett"
HEY1="" HEY2=""
if ((CONC > 0)); then # BENCH_RELOAD_CONNS=0: no load (to tell reloads from connections)
	hey -z 2h -c "$CONC" -H "User-Agent: $UA" -T application/x-www-form-urlencoded -q "$RATE" "http://127.0.0.1:$S1/page" >"$WORK/hey1.txt" 2>&1 &
	HEY1=$!
	PIDS+=($HEY1)
	hey -z 2h -c "$CONC" -H "User-Agent: $UA" -T application/x-www-form-urlencoded -q "$RATE" "http://127.0.0.1:$S2$Q" >"$WORK/hey2.txt" 2>&1 &
	HEY2=$!
	PIDS+=($HEY2)
fi
sleep "$SETTLE"
rss_median RSS_START
profiles start
HEAP_START=$(live_kib start) G_START=$(goroutines start)

START=$(date +%s)
write_patch 1
rules
check_patch 1
caddyfile
check_patch 1
sleep "$SETTLE"
rss_median RSS_FIRST
profiles first
HEAP_FIRST=$(live_kib first) G_FIRST=$(goroutines first)
C_FIRST=$(compiled)
log "after the first reload-rules and Caddyfile reload: RSS $RSS_FIRST KiB, live heap $HEAP_FIRST KiB ($C_FIRST engines compiled so far)"

for ((n = 2; n <= RELOADS; n++)); do
	[[ $SAME == 1 ]] || write_patch "$n"
	[[ $ONLY == caddyfile ]] || rules
	[[ $ONLY == rules ]] || caddyfile
	((n % 10 == 0)) && log "$n + $n reloads: RSS $(rss_kib) KiB (one reading)"
done
if [[ $SAME == 1 ]]; then check_patch 1; else check_patch "$RELOADS"; fi
sleep "$SETTLE"
rss_median RSS_END
profiles end
HEAP_END=$(live_kib end) G_END=$(goroutines end)
RSS_DRAIN="" HEAP_DRAIN="" G_DRAIN=""
if ((DRAIN > 0)); then
	sleep "$DRAIN"
	rss_median RSS_DRAIN
	profiles drained
	HEAP_DRAIN=$(live_kib drained) G_DRAIN=$(goroutines drained)
fi
C_END=$(compiled)
ELAPSED=$(($(date +%s) - START))
if [[ -n $HEY1 ]]; then
	kill -INT "$HEY1" "$HEY2" 2>/dev/null || true # hey prints its summary on SIGINT
	wait "$HEY1" "$HEY2" 2>/dev/null || true
fi
touch "$WORK/hey1.txt" "$WORK/hey2.txt"
ERRS=$(cat "$WORK/hey1.txt" "$WORK/hey2.txt" | awk '/^Error distribution:/ { e = 1; next } /^[^ \t]/ { e = 0 } e && /^[ \t]*\[[0-9]+\]/ { gsub(/[][]/, "", $1); n += $1 } END { print n + 0 }')
# Responses per status code over both sites ([ \t], not \s: Debian's
# default awk, mawk, has no \s).
CODES=$(cat "$WORK/hey1.txt" "$WORK/hey2.txt" | awk '/^Status code distribution:/ { c = 1; next } /^$/ { c = 0 } c && /^[ \t]*\[[0-9]+\]/ { gsub(/[][]/, "", $1); n[$1] += $2 } END { for (k in n) { printf "%s%s: %d", sep, k, n[k]; sep = ", " } }')

PCT=$(awk -v a="$RSS_END" -v b="$RSS_FIRST" 'BEGIN { printf "%+.1f", (a - b) * 100 / b }')
echo
echo "mamori resident set over reloads: 2 sites sharing one patch file${PROFILE:+ and the $PROFILE profile}, hey -c $CONC -q $RATE on each, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
HPCT=$(awk -v a="$HEAP_END" -v b="$HEAP_FIRST" 'BEGIN { if (b > 0) printf "%+.1f", (a - b) * 100 / b; else printf "?" }')
printf '  %-52s %28s %16s %10s\n' "" "RSS median (min-max)" "live Go heap" "goroutines"
row() { # label rss min max heap goroutines [note]
	printf '  %-52s %8s KiB (%s-%s) %12s KiB %10s  %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}"
}
row "after start and ${SETTLE}s of load" "$RSS_START" "$RSS_START_MIN" "$RSS_START_MAX" "$HEAP_START" "$G_START"
row "after the first reload-rules and Caddyfile reload" "$RSS_FIRST" "$RSS_FIRST_MIN" "$RSS_FIRST_MAX" "$HEAP_FIRST" "$G_FIRST"
row "after $RELOADS reload-rules + $RELOADS Caddyfile reloads" "$RSS_END" "$RSS_END_MIN" "$RSS_END_MAX" "$HEAP_END" "$G_END" \
	"($PCT % / $HPCT % of the first)"
if [[ -n $RSS_DRAIN ]]; then
	DPCT=$(awk -v a="$RSS_DRAIN" -v b="$RSS_FIRST" 'BEGIN { printf "%+.1f", (a - b) * 100 / b }')
	row "then after ${DRAIN}s more load" "$RSS_DRAIN" "$RSS_DRAIN_MIN" "$RSS_DRAIN_MAX" "$HEAP_DRAIN" "$G_DRAIN" "($DPCT % of the first)"
fi
echo "  (RSS: median of $SAMPLES readings 0.5 s apart; live heap: a heap profile right after a forced collection)"
[[ -z $KEEPALIVE ]] || echo "  reverse_proxy keepalive (idle timeout): $KEEPALIVE"
echo "  engines compiled: $C_FIRST after the first reloads, $C_END in all ($((RELOADS + 1)) distinct rule sets, 2 sites)"
echo "  reloads took ${ELAPSED}s; load: status codes $CODES; client errors $ERRS"
if awk -v a="$RSS_END" -v b="$RSS_FIRST" 'BEGIN { exit !(a > b * 1.10) }'; then
	echo "RESULT: resident set grew more than 10 % over the reloads"
	exit 1
fi
echo "RESULT: resident set within 10 % of the first"

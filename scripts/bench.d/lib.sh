# What every benchmark in scripts/bench.d uses: the test bed, the release build, connection
# strings, psql, a timed step. Sourced by each benchmark script, which then calls bench_start.

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

# dsn DSN DATABASE: the same connection string for another database.
dsn() { echo "${1/dbname=postgres/dbname=$2}"; }
sql() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }
now() { date +%s.%N; }

# bench_start: installs what is missing, starts the test bed (and stops it on exit if it was not
# running before), builds continuity for release. Sets work (a scratch directory removed on
# exit, or kept and named with CONTINUITY_BENCH_KEEP=1, to look into) and continuity (the binary; CONTINUITY_BENCH_BINARY names another build instead, for an
# A/B run against an older commit on the same data and test bed).
bench_start() {
    scripts/install-deps
    stop_testbed=false
    scripts/testbed env >/dev/null 2>&1 || stop_testbed=true
    work=$(mktemp -d /tmp/continuity-bench.XXXXXX)
    trap bench_cleanup EXIT
    eval "$(scripts/testbed up)"
    if [ -n "${CONTINUITY_BENCH_BINARY:-}" ]; then
        continuity=$CONTINUITY_BENCH_BINARY
    else
        swift build -c release --product continuity >&2
        continuity=$(swift build -c release --show-bin-path)/continuity
    fi
}
bench_cleanup() {
    if [ "${CONTINUITY_BENCH_KEEP:-}" = 1 ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
    if $stop_testbed; then scripts/testbed down; fi; }

# measure NAME COMMAND...: runs it under GNU time; sets wall (s) and rss (MiB). Both servers
# checkpoint first, so no step pays for the WAL the step before it wrote.
measure() {
    local name=$1; shift
    sql "$CONTINUITY_TEST_ACTIVE" -c CHECKPOINT
    sql "$CONTINUITY_TEST_PASSIVE" -c CHECKPOINT
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >"$work/$name.out" 2>"$work/$name.err" \
        || { echo "bench: $name failed:" >&2; grep -v "^0x" "$work/$name.err" | tail -40 >&2; exit 1; }
    read -r wall rss_kb <"$work/time"
    rss=$((rss_kb / 1024))
}

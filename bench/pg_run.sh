#!/usr/bin/env bash
# Votes on PostgreSQL: agon on one node and on three nodes of one database,
# side by side with bench/pg_votes (the same vote transaction in a raw
# libpq loop), alternating, RUNS rounds; then GET /api/leaderboard on each
# of the three nodes (wrk). See docs/performance.md, "Several nodes on
# PostgreSQL".
#
#   bench/pg_run.sh            (as root: the cluster runs as `postgres`)
#
# Environment: BUILD [build-bench] WORK [/tmp/agon-pg-bench] RUNS [3]
#   VOTES [3000] per round and system, CONC [32] voters (split over the
#   nodes), DURATION [5] seconds of wrk per node, PGBIN
#   [/usr/lib/postgresql/15/bin].
# The cluster is a throwaway one in $WORK/pg (Unix socket only, fsync and
# synchronous_commit on, the defaults), removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build-bench}
WORK=${WORK:-/tmp/agon-pg-bench}
RUNS=${RUNS:-3}
VOTES=${VOTES:-3000}
CONC=${CONC:-32}
DURATION=${DURATION:-5}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

[ -x "$PGBIN/initdb" ] || { echo "pg_run.sh: needs postgresql-15 ($PGBIN/initdb)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "pg_run.sh: needs wrk" >&2; exit 1; }
rm -rf "$WORK"; mkdir -p "$WORK/pg"
if [ ! -f "$BUILD/build.ninja" ]; then meson setup "$BUILD" -Dbench=true >/dev/null; fi
meson configure "$BUILD" -Dbench=true >/dev/null
ninja -C "$BUILD" >/dev/null
AGON=$ROOT/$BUILD/agon
BIN=$ROOT/$BUILD/bench
ulimit -n "$(ulimit -Hn)"

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -A trust -U postgres >/dev/null
cat >> "$WORK/pg/data/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$WORK/pg'
max_connections = 300
EOF
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w start >/dev/null
psql_() { psql -X -q -h "$WORK/pg" -U postgres "$@"; }
conn() { echo "postgresql:///$1?host=$WORK/pg&user=postgres"; }

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

start_bg() { # NAME PATTERN CMD...: sets BG_PID, BG_PORT
  local name=$1 pattern=$2; shift 2
  : > "$WORK/$name.out"
  "$@" > "$WORK/$name.out" 2>> "$WORK/$name.err" &
  BG_PID=$!; PIDS+=("$BG_PID")
  for _ in $(seq 200); do
    if grep -q "$pattern" "$WORK/$name.out"; then
      BG_PORT=$(grep "$pattern" "$WORK/$name.out" | head -1 | grep -o '[0-9]\+' | tail -1)
      return 0
    fi
    kill -0 "$BG_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "pg_run.sh: $name did not start:" >&2; cat "$WORK/$name.err" >&2; exit 1
}
stop_bg() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
field() { echo "$1" | grep -o "$2=[0-9.]*" | head -1 | cut -d= -f2; }

write_config() { # FILE DATABASE NODE
  {
    printf '[server]\ndatabase = %s\nnode = %s\n\n[limits]\n' "$2" "$3"
    printf 'battles_per_minute = 0\nvotes_per_minute = 0\n'
    printf 'max_concurrent_battles = 0\nmin_vote_seconds = 0\n'
    printf 'max_connections = 0\nmax_connections_per_client = 0\n'
    printf 'max_streams_per_client = 0\nmax_streams_per_battle = 0\n'
    printf 'max_buffered_bytes = 0\n'
    for i in $(seq -w 0 19); do
      printf '\n[model bench-%s]\nbase_url = http://127.0.0.1:%s/v1\n' "$i" "$UP"
      printf 'model = upstream-%s\ntimeout = 120\n' "$i"
    done
  } > "$1"
}

# nodes N DB: start N agon nodes on one database; sets PORTS, NODE_PIDS
nodes() {
  PORTS=(); NODE_PIDS=()
  for n in $(seq "$1"); do
    write_config "$WORK/node$n.ini" "$(conn "$2")" "node$n"
    start_bg "node$n" "listening on" "$AGON" serve --config "$WORK/node$n.ini" --listen 127.0.0.1:0
    PORTS+=("$BG_PORT"); NODE_PIDS+=("$BG_PID")
  done
}

# agon_round N DB: VOTES votes over N nodes at once (CONC voters split);
# prints "votes_per_s=R p50_ms=X p99_ms=Y" over the whole round
agon_round() {
  local n=$1 db=$2
  nodes "$n" "$db"
  "$BIN/arena_load" battles --port "${PORTS[0]}" -n "$VOTES" -c 100 --timeout 600 \
    --out "$WORK/battles.txt" > /dev/null
  local per=$(((VOTES + n - 1) / n)) t0 t1 outs=()
  split -l "$per" -d "$WORK/battles.txt" "$WORK/slice-"
  t0=$(date +%s.%N)
  local i=0 lpids=()
  for f in "$WORK"/slice-*; do
    "$BIN/arena_load" votes --port "${PORTS[$i]}" --battles "$f" -c $((CONC / n)) > "$f.out" &
    lpids+=($!); i=$((i + 1))
  done
  for p in "${lpids[@]}"; do wait "$p"; done
  t1=$(date +%s.%N)
  local ok=0
  for f in "$WORK"/slice-*.out; do ok=$((ok + $(field "$(cat "$f")" ok))); done
  python3 -c "print('votes_per_s=%.0f ok=%d nodes=%d' % ($ok / ($t1 - $t0), $ok, $n))"
  rm -f "$WORK"/slice-*
  "$AGON" recompute --db "$(conn "$db")" > "$WORK/recompute-$db.json" ||
    { echo "pg_run.sh: recompute disagrees with live on $db" >&2; exit 1; }
  for p in "${NODE_PIDS[@]}"; do stop_bg "$p"; done
}

raw_round() { # DB
  psql_ -c "CREATE DATABASE $1"
  "$BIN/pg_votes" --db "host=$WORK/pg user=postgres dbname=$1" \
    --schema "$ROOT/schema/postgres" -n "$VOTES" -c "$CONC"
}

echo "== machine: $(nproc) cores, $(uname -r), PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), agon $(git -C "$ROOT" rev-parse --short HEAD)"
start_bg upstream "listening on" "$BIN/fake_upstream" --chunks 5
UP=$BG_PORT
echo "== votes/s: $VOTES votes a round, $CONC voters; agon on 1 node, on 3 nodes, raw pg_votes (alternating)"
for r in $(seq "$RUNS"); do
  for db in one_$r three_$r; do psql_ -c "CREATE DATABASE $db"; done
  if [ $((r % 2)) -eq 1 ]; then
    a1=$(agon_round 1 "one_$r"); a3=$(agon_round 3 "three_$r"); raw=$(raw_round "raw_$r")
  else
    raw=$(raw_round "raw_$r"); a3=$(agon_round 3 "three_$r"); a1=$(agon_round 1 "one_$r")
  fi
  echo "round=$r agon_1node: $a1 | agon_3nodes: $a3 | $raw"
done

echo "== GET /api/leaderboard on each of 3 nodes (wrk -t2 -c50 -d${DURATION}s, one node at a time)"
nodes 3 "three_1"
for i in 0 1 2; do
  rps=$(wrk -t2 -c50 -d"${DURATION}s" "http://127.0.0.1:${PORTS[$i]}/api/leaderboard" | awk '/Requests\/sec/ {print $2}')
  echo "node$((i + 1)) leaderboard_rps=$rps"
done
for p in "${NODE_PIDS[@]}"; do stop_bg "$p"; done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

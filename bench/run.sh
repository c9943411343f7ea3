#!/bin/bash
# Operations benchmarks: Agon side by side with a baseline in the same run.
#
#   bench/run.sh [leaderboard|votes|votes256|lbvotes|battles|ramp|startup|all]...
#                                                           (default: all)
#
# 1. leaderboard  GET /api/leaderboard (20 models) with wrk, keep-alive,
#                 versus bench/minimal_mhd serving the very same bytes.
# 2. votes        POST /api/battles/ID/vote, each on its own ready battle,
#                 concurrent keep-alive clients (bench/arena_load), versus
#                 bench/sqlite_votes: the vote transaction in a raw loop.
# 2b. votes256    the same votes from CONC256 concurrent voters, versus the
#                 raw loop with synchronous = FULL (one transaction and fsync
#                 per vote) and with synchronous = NORMAL (no fsync before
#                 the commit returns), and FULL with GROUP256 votes per
#                 transaction; with OLD_BUILD, an older agon too,
#                 side by side; mean group size from /metrics.
# 2c. lbvotes     GET /api/leaderboard (wrk) alone, votes alone, and both at
#                 the same time: leaderboard req/s and votes/s.
# 3. battles      1,000 battles at once (2,000 upstream streams) against
#                 bench/fake_upstream: errors, time to first delta versus the
#                 upstream's own time to first token, peak RSS, threads;
#                 then (3b) the same battles ramped up, all in flight.
# 4. startup      exec to the "listening" line with 1,000,000 votes in the
#                 database; `agon recompute` on it.
#
# Environment (defaults in brackets):
#   BUILD [build-bench]   meson build dir, configured with -Dbench=true
#                         (set up here when missing)
#   WORK [/tmp/agon-ops-bench]   databases, logs and results (same disk for
#                         Agon's and the baseline's databases)
#   RUNS [3]              rounds of each ratio measurement (order alternates)
#   DURATION [10] THREADS [2] CONNS [50]   wrk -d, -t, -c
#   VOTES [2000] VOTE_CONC [32]   votes per round, concurrent voters
#   VOTES256 [20000] CONC256 [256]   2b: votes per round and agon, voters
#   GROUP256 [128]        2b: votes per transaction of the grouped raw loop
#   OLD_BUILD             2b: a build dir of another revision (its agon is
#                         measured beside this one; e.g. a worktree's build)
#   SLOW_FSYNC_US         2b: stretch every fsync/fdatasync of agon and the
#                         raw loop to this many microseconds (LD_PRELOAD of
#                         bench/slow_fsync.c): a slower disk than this one
#   LBV_DURATION [3] LBV_VOTES [40000] LBV_CONC [256]   2c: window of each
#                         phase, battles kept per vote phase, voters
#   BATTLES [1000] CHUNKS [20] INTERVAL_MS [0]   battles at once; chunks per
#                         answer and the time between them (fake upstream)
#   RAMP_RATE [100] RAMP_CHUNKS [120] RAMP_INTERVAL_MS [100]   3b: the same
#                         battles started RAMP_RATE a second, with answers
#                         that keep all of them in flight at the end
#   AGON_REV              the revision to report when $ROOT is no git checkout
#   STARTUP_VOTES [1000000] STARTUP_MODELS ["20 100"] STARTUP_RUNS [10]
#                         (one database per number of models, kept in $WORK)
#   PYTHON [/usr/bin/python3]   with numpy (bench/gen_battles.py)
# Needs (Debian): wrk curl sqlite3 python3-numpy, and ulimit -n >= 5000.
# Results: stdout, and key=value lines in $WORK/results.txt. Agon's log lines
# (one per request) go to $WORK/agon.err.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${BUILD:-build-bench}
WORK=${WORK:-/tmp/agon-ops-bench}
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
VOTES=${VOTES:-2000}
VOTE_CONC=${VOTE_CONC:-32}
VOTES256=${VOTES256:-20000}
CONC256=${CONC256:-256}
GROUP256=${GROUP256:-128}
OLD_BUILD=${OLD_BUILD:-}
SLOW_FSYNC_US=${SLOW_FSYNC_US:-}
LBV_DURATION=${LBV_DURATION:-3}
LBV_VOTES=${LBV_VOTES:-40000}
LBV_CONC=${LBV_CONC:-256}
BATTLES=${BATTLES:-1000}
CHUNKS=${CHUNKS:-20}
INTERVAL_MS=${INTERVAL_MS:-0}
RAMP_RATE=${RAMP_RATE:-100}
RAMP_CHUNKS=${RAMP_CHUNKS:-120}
RAMP_INTERVAL_MS=${RAMP_INTERVAL_MS:-100}
STARTUP_VOTES=${STARTUP_VOTES:-1000000}
STARTUP_MODELS=${STARTUP_MODELS:-20 100}
STARTUP_RUNS=${STARTUP_RUNS:-10}
PYTHON=${PYTHON:-/usr/bin/python3}
WHAT=${*:-all}

mkdir -p "$WORK"
RESULTS=$WORK/results.txt
if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" -Dbench=true >/dev/null
fi
meson configure "$BUILD" -Dbench=true >/dev/null
ninja -C "$BUILD" >/dev/null
AGON=$ROOT/$BUILD/agon
BIN=$ROOT/$BUILD/bench
command -v wrk >/dev/null || { echo "run.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

result() { echo "$*" | tee -a "$RESULTS"; }
load() { echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"; }

# start_bg NAME PATTERN CMD...: start CMD with stdout to $WORK/NAME.out,
# wait for a line matching PATTERN; sets BG_PID and BG_PORT (its last number).
start_bg() {
  local name=$1 pattern=$2
  shift 2
  : > "$WORK/$name.out"
  "$@" > "$WORK/$name.out" 2>> "$WORK/$name.err" &
  BG_PID=$!
  PIDS+=("$BG_PID")
  for _ in $(seq 200); do
    if grep -q "$pattern" "$WORK/$name.out"; then
      BG_PORT=$(grep "$pattern" "$WORK/$name.out" | head -1 | grep -o '[0-9]\+' | tail -1)
      return 0
    fi
    kill -0 "$BG_PID" 2>/dev/null || break
    sleep 0.05
  done
  echo "run.sh: $name did not start:" >&2
  cat "$WORK/$name.err" >&2
  exit 1
}

stop_bg() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# write_config FILE DB UPSTREAM_PORT: 20 models on the fake upstream,
# no limits in the way of a benchmark.
write_config() {
  {
    printf '[server]\ndatabase = %s\n\n[limits]\n' "$2"
    printf 'battles_per_minute = 0\nvotes_per_minute = 0\n'
    printf 'max_concurrent_battles = 0\nmin_vote_seconds = 0\n'
    printf 'max_connections = 0\nmax_connections_per_client = 0\n'
    printf 'max_streams_per_client = 0\nmax_streams_per_battle = 0\n'
    printf 'max_buffered_bytes = 0\n'
    for i in $(seq -w 0 19); do
      printf '\n[model bench-%s]\nbase_url = http://127.0.0.1:%s/v1\n' "$i" "$3"
      printf 'model = upstream-%s\ntimeout = 120\n' "$i"
    done
  } > "$1"
}

fresh_db() { rm -f "$1" "$1-wal" "$1-shm"; }

PRELOAD=()   # "env LD_PRELOAD=..." before agon and the raw loop (2b)
start_agon() { # CONFIG [BINARY [NAME]]
  start_bg "${3:-agon}" "listening on" ${PRELOAD[@]+"${PRELOAD[@]}"} "${2:-$AGON}" \
    serve --config "$1" --listen 127.0.0.1:0
  AGON_PID=$BG_PID
  AGON_PORT=$BG_PORT
}

# metric NAME PORT: one unlabelled value from agon's /metrics
metric() { curl -s "http://127.0.0.1:$2/metrics" | awk -v k="$1" '$1 == k {print $2}'; }
# field LINE KEY: the value of key=value in LINE
field() { echo "$1" | grep -o "$2=[0-9.]*" | head -1 | cut -d= -f2; }

machine() {
  echo "== machine"
  echo "nproc: $(nproc)"
  lscpu | head -20
  echo "kernel: $(uname -r)"
  echo "disk for $WORK: $(df -hT "$WORK" | tail -1)"
  echo "libmicrohttpd $(dpkg-query -W -f='${Version}' libmicrohttpd12 2>/dev/null)," \
       "SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1)," \
       "libcurl $(dpkg-query -W -f='${Version}' libcurl4 2>/dev/null)," \
       "wrk $(dpkg-query -W -f='${Version}' wrk 2>/dev/null)"
  local rev=${AGON_REV:-}
  if [ -z "$rev" ] && git -C "$ROOT" rev-parse --short HEAD >/dev/null 2>&1; then
    rev="$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- server schema || echo ' (server/ or schema/ modified)')"
  fi
  echo "agon: ${rev:-unknown revision}, buildtype $(meson introspect --buildoptions "$BUILD" | "$PYTHON" -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])')"
  load
  echo
}

# ---------------------------------------------------------------- 1
bench_leaderboard() {
  echo "== 1. GET /api/leaderboard, 20 models: agon vs minimal libmicrohttpd server"
  load
  start_bg upstream "listening on" "$BIN/fake_upstream" --chunks 5
  local up=$BG_PORT up_pid=$BG_PID
  write_config "$WORK/lb.ini" "$WORK/lb.db" "$up"
  fresh_db "$WORK/lb.db"
  start_agon "$WORK/lb.ini"
  # some votes, so that the rows differ
  # LB_SLICES=1: prompts in 8 languages, a quarter about code, so that the
  # votes fill ~20 leaderboard slices, each refitted after votes
  "$BIN/arena_load" battles --port "$AGON_PORT" -n 300 -c 50 ${LB_SLICES:+--multilingual} \
    --out "$WORK/lb-battles.txt" >/dev/null
  "$BIN/arena_load" votes --port "$AGON_PORT" --battles "$WORK/lb-battles.txt" -c 8 >/dev/null
  sleep 1.5 # the Bradley-Terry refit after the last vote
  echo "slices: $(curl -s "http://127.0.0.1:$AGON_PORT/api/leaderboard/slices" | grep -o '"key"' | wc -l)"
  local url="http://127.0.0.1:$AGON_PORT/api/leaderboard"
  curl -s -D "$WORK/lb-agon.headers" -o "$WORK/lb-body.json" "$url"
  curl -s -o "$WORK/lb-body2.json" "$url"
  cmp -s "$WORK/lb-body.json" "$WORK/lb-body2.json" ||
    { echo "run.sh: the leaderboard changes between requests" >&2; exit 1; }
  # Agon's own headers (libmicrohttpd adds Date, Content-Length, Connection)
  grep -iv '^\(HTTP/\|date:\|content-length:\|connection:\|transfer-encoding:\)' \
    "$WORK/lb-agon.headers" | tr -d '\r' | grep . > "$WORK/lb-headers.txt"
  start_bg minimal "listening on" "$BIN/minimal_mhd" --body "$WORK/lb-body.json" \
    --headers "$WORK/lb-headers.txt"
  local min_port=$BG_PORT min_pid=$BG_PID
  curl -s -D "$WORK/lb-min.headers" -o "$WORK/lb-min-body.json" "http://127.0.0.1:$min_port/api/leaderboard"
  cmp "$WORK/lb-body.json" "$WORK/lb-min-body.json"
  diff <(grep -iv '^date:' "$WORK/lb-agon.headers" | tr -d '\r' | sort) \
       <(grep -iv '^date:' "$WORK/lb-min.headers" | tr -d '\r' | sort) ||
    { echo "run.sh: the two servers' headers differ" >&2; exit 1; }
  echo "body: $(wc -c < "$WORK/lb-body.json") bytes, $(grep -o '"rank"' "$WORK/lb-body.json" | wc -l) models, headers and body identical from both servers but for Date ($(wc -c < "$WORK/lb-agon.headers") + $(wc -c < "$WORK/lb-body.json") bytes)"
  local cmd="wrk -t$THREADS -c$CONNS -d${DURATION}s"
  echo "command: $cmd URL   (rounds: $RUNS, order alternating)"
  local ratios=()
  for r in $(seq "$RUNS"); do
    local a m
    wrk_rps() { $cmd "$1" | tee "$WORK/wrk-$2-$r.txt" | awk '/Requests\/sec/ {print $2}'; }
    if [ $((r % 2)) -eq 1 ]; then
      a=$(wrk_rps "$url" agon); m=$(wrk_rps "http://127.0.0.1:$min_port/api/leaderboard" minimal)
    else
      m=$(wrk_rps "http://127.0.0.1:$min_port/api/leaderboard" minimal); a=$(wrk_rps "$url" agon)
    fi
    local ratio
    ratio=$("$PYTHON" -c "print('%.3f' % ($a / $m))")
    ratios+=("$ratio")
    result "leaderboard round=$r agon_rps=$a minimal_rps=$m ratio=$ratio"
    grep -h "Latency " "$WORK/wrk-agon-$r.txt" "$WORK/wrk-minimal-$r.txt" | sed 's/^/   agon, minimal: /' | head -2
  done
  result "leaderboard ratios=${ratios[*]} goal>=0.70 $(load)"
  stop_bg "$min_pid"
  stop_bg "$AGON_PID"
  stop_bg "$up_pid"
  echo
}

# ---------------------------------------------------------------- 2
bench_votes() {
  echo "== 2. votes/s: POST /api/battles/ID/vote vs a raw SQLite loop (WAL, synchronous=FULL)"
  load
  start_bg upstream "listening on" "$BIN/fake_upstream" --chunks 5
  local up=$BG_PORT up_pid=$BG_PID
  write_config "$WORK/votes.ini" "$WORK/votes.db" "$up"
  fresh_db "$WORK/votes.db"
  start_agon "$WORK/votes.ini"
  local need=$((VOTES * RUNS))
  echo "creating $need ready battles..."
  "$BIN/arena_load" battles --port "$AGON_PORT" -n "$need" -c 100 --timeout 600 \
    --out "$WORK/vote-battles.txt" | sed 's/^/   /'
  echo "command: arena_load votes -c $VOTE_CONC -n $VOTES (keep-alive) vs sqlite_votes -n $VOTES --mode minimal|full, database in $WORK"
  local ratios=()
  for r in $(seq "$RUNS"); do
    sed -n "$(((r - 1) * VOTES + 1)),$((r * VOTES))p" "$WORK/vote-battles.txt" > "$WORK/vote-slice.txt"
    local a m f
    agon_votes() { "$BIN/arena_load" votes --port "$AGON_PORT" --battles "$WORK/vote-slice.txt" -c "$VOTE_CONC" || true; }
    raw_votes() { "$BIN/sqlite_votes" --db "$WORK/raw-votes.db" --schema "$ROOT/schema" -n "$VOTES" --mode "$1"; }
    if [ $((r % 2)) -eq 1 ]; then
      a=$(agon_votes); m=$(raw_votes minimal); f=$(raw_votes full)
    else
      f=$(raw_votes full); m=$(raw_votes minimal); a=$(agon_votes)
    fi
    echo "   $a"; echo "   $m"; echo "   $f"
    local av mv fv ratio
    av=$(echo "$a" | grep -o 'votes_per_s=[0-9.]*' | cut -d= -f2)
    mv=$(echo "$m" | grep -o 'votes_per_s=[0-9.]*' | cut -d= -f2)
    fv=$(echo "$f" | grep -o 'votes_per_s=[0-9.]*' | cut -d= -f2)
    ratio=$("$PYTHON" -c "print('%.3f' % ($av / $mv))")
    ratios+=("$ratio")
    result "votes round=$r agon_vps=$av sqlite_minimal_vps=$mv sqlite_full_vps=$fv ratio=$ratio ratio_full=$("$PYTHON" -c "print('%.3f' % ($av / $fv))")"
  done
  result "votes ratios=${ratios[*]} goal>=0.50 $(load)"
  "$AGON" recompute --db "$WORK/votes.db" > "$WORK/votes-recompute.json" &&
    echo "recompute after the votes: live ratings match the replay"
  stop_bg "$AGON_PID"
  stop_bg "$up_pid"
  echo
}

# ---------------------------------------------------------------- 2b
# fdatasync of a 4 KiB append in $WORK, 200 times: "p50 p99" in ms
fsync_cost() {
  "$PYTHON" - "$WORK/fsync-probe" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
ts = []
for _ in range(200):
    os.write(fd, b"x" * 4096)
    t0 = time.perf_counter()
    os.fdatasync(fd)
    ts.append((time.perf_counter() - t0) * 1e3)
os.close(fd)
os.unlink(sys.argv[1])
ts.sort()
print("%.3f %.3f" % (ts[100], ts[198]))
EOF
}

bench_votes256() {
  echo "== 2b. votes/s at $CONC256 concurrent voters (synchronous = FULL) vs the raw SQLite loop with FULL and with NORMAL"
  load
  PRELOAD=()
  if [ -n "$SLOW_FSYNC_US" ]; then
    PRELOAD=(env "SLOW_FSYNC_US=$SLOW_FSYNC_US" "LD_PRELOAD=$BIN/libslow_fsync.so")
    echo "every fsync/fdatasync of agon and the raw loop stretched to $SLOW_FSYNC_US us (bench/slow_fsync.c)"
  fi
  echo "fdatasync of a 4 KiB append in $WORK (this disk, no shim), p50 / p99 ms: $(fsync_cost)"
  start_bg upstream "listening on" "$BIN/fake_upstream" --chunks 5
  local up=$BG_PORT up_pid=$BG_PID
  local sides=(new) need=$((VOTES256 * RUNS))
  [ -n "$OLD_BUILD" ] && sides+=(old)
  declare -A port pid
  local s
  for s in "${sides[@]}"; do
    local bin=$AGON rev
    rev=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")
    if [ "$s" = old ]; then
      bin=$OLD_BUILD/agon
      rev=$(git -C "$OLD_BUILD/.." rev-parse --short HEAD 2>/dev/null || echo "?")
    fi
    write_config "$WORK/v256-$s.ini" "$WORK/v256-$s.db" "$up"
    fresh_db "$WORK/v256-$s.db"
    start_agon "$WORK/v256-$s.ini" "$bin" "agon-$s"
    port[$s]=$AGON_PORT
    pid[$s]=$AGON_PID
    echo "agon $s: $bin ($rev); creating $need ready battles..."
    "$BIN/arena_load" battles --port "${port[$s]}" -n "$need" -c 100 --timeout 900 \
      --out "$WORK/v256-battles-$s.txt" | sed 's/^/   /'
  done
  sides+=(full normal group)
  echo "command: arena_load votes -c $CONC256 -n $VOTES256 (keep-alive) vs sqlite_votes -n $VOTES256 --mode full --sync full|normal, and --sync full --group $GROUP256 (the database work of a group commit alone), database in $WORK; order rotated each round"
  declare -A vps
  local k=${#sides[@]}
  for r in $(seq "$RUNS"); do
    local order=() i
    for i in $(seq 0 $((k - 1))); do order+=("${sides[$(((i + r - 1) % k))]}"); done
    echo "   round $r: ${order[*]}"
    local extra=""
    for s in "${order[@]}"; do
      local out
      case $s in
      new|old)
        sed -n "$(((r - 1) * VOTES256 + 1)),$((r * VOTES256))p" "$WORK/v256-battles-$s.txt" > "$WORK/v256-slice.txt"
        local g0 j0 w0 g1 j1 w1 cpu0 cpu1
        g0=$(metric agon_db_write_seconds_count "${port[$s]}")
        j0=$(metric agon_db_writes_total "${port[$s]}")
        w0=$(metric agon_db_write_seconds_sum "${port[$s]}")
        cpu0=$(thread_cpu "${pid[$s]}")
        out=$("$BIN/arena_load" votes --port "${port[$s]}" --battles "$WORK/v256-slice.txt" \
          -c "$CONC256" 2>> "$WORK/v256-votes.err" || true)
        cpu1=$(thread_cpu "${pid[$s]}")
        g1=$(metric agon_db_write_seconds_count "${port[$s]}")
        j1=$(metric agon_db_writes_total "${port[$s]}")
        w1=$(metric agon_db_write_seconds_sum "${port[$s]}")
        local groups=$((g1 - g0)) jobs=$((j1 - j0))
        extra+=" ${s}_groups=$groups ${s}_writes=$jobs"
        extra+=" ${s}_mean_group=$("$PYTHON" -c "print('%.1f' % ($jobs / max($groups, 1)))")"
        # the writer's time in its transactions (agon_db_write_seconds_sum),
        # and agon's CPU by thread, over the round
        extra+=" ${s}_writer_busy_s=$("$PYTHON" -c "print('%.3f' % ($w1 - $w0))")"
        extra+=" ${s}_cpu_s=$(join <(echo "$cpu0") <(echo "$cpu1") |
          awk '{t += ($6 + $7) - ($3 + $4)} END {printf "%.2f", t / 100}')"
        echo "      $s: agon CPU by thread (s): $(join <(echo "$cpu0") <(echo "$cpu1") |
          awk '{d = (($6 + $7) - ($3 + $4)) / 100; if (d > 0) printf "%s %.2f, ", $2, d}')"
        extra+=" ${s}_p50_ms=$(field "$out" p50_ms) ${s}_p99_ms=$(field "$out" p99_ms) ${s}_errors=$(field "$out" errors)"
        ;;
      full|normal|group)
        local sync=$s group=1
        [ "$s" = group ] && sync=full group=$GROUP256
        out=$(${PRELOAD[@]+"${PRELOAD[@]}"} "$BIN/sqlite_votes" --db "$WORK/raw-votes.db" \
          --schema "$ROOT/schema" -n "$VOTES256" --mode full --sync "$sync" --group "$group")
        extra+=" ${s}_p50_ms=$(field "$out" p50_ms)"
        ;;
      esac
      echo "      $s: $out"
      vps[$s]=$(field "$out" votes_per_s)
    done
    local line="votes256 round=$r conc=$CONC256 agon_vps=${vps[new]}"
    [ -n "$OLD_BUILD" ] &&
      line+=" old_vps=${vps[old]} new_over_old=$("$PYTHON" -c "print('%.2f' % (${vps[new]} / ${vps[old]}))")"
    line+=" sqlite_full_vps=${vps[full]} sqlite_normal_vps=${vps[normal]} sqlite_full_group${GROUP256}_vps=${vps[group]}"
    line+=" ratio_full=$("$PYTHON" -c "print('%.2f' % (${vps[new]} / ${vps[full]}))")"
    line+=" ratio_normal=$("$PYTHON" -c "print('%.3f' % (${vps[new]} / ${vps[normal]}))")"
    result "$line$extra${SLOW_FSYNC_US:+ slow_fsync_us=$SLOW_FSYNC_US}"
  done
  result "votes256 goals: ratio_full>=10 ratio_normal>=0.5 $(load)"
  for s in new ${OLD_BUILD:+old}; do
    stop_bg "${pid[$s]}"
    "$AGON" recompute --db "$WORK/v256-$s.db" > "$WORK/v256-recompute.json" &&
      echo "recompute after the votes ($s): live ratings match the replay"
  done
  PRELOAD=()
  stop_bg "$up_pid"
  echo
}

# ---------------------------------------------------------------- 2c
bench_lbvotes() {
  echo "== 2c. GET /api/leaderboard while votes are written: wrk alone, votes alone, both at once (${LBV_DURATION} s windows)"
  load
  start_bg upstream "listening on" "$BIN/fake_upstream" --chunks 5
  local up=$BG_PORT up_pid=$BG_PID
  write_config "$WORK/lbv.ini" "$WORK/lbv.db" "$up"
  fresh_db "$WORK/lbv.db"
  start_agon "$WORK/lbv.ini"
  local need=$((LBV_VOTES * 2 * RUNS))
  # some votes first, so that the rows differ
  "$BIN/arena_load" battles --port "$AGON_PORT" -n 300 -c 50 --out "$WORK/lbv-warm.txt" >/dev/null
  "$BIN/arena_load" votes --port "$AGON_PORT" --battles "$WORK/lbv-warm.txt" -c 8 >/dev/null
  echo "creating $need ready battles..."
  "$BIN/arena_load" battles --port "$AGON_PORT" -n "$need" -c 100 --timeout 900 \
    --out "$WORK/lbv-battles.txt" | sed 's/^/   /'
  sleep 1.5 # the Bradley-Terry refit after the last vote
  echo "slices: $(curl -s "http://127.0.0.1:$AGON_PORT/api/leaderboard/slices" | grep -o '"key"' | wc -l)"
  local url="http://127.0.0.1:$AGON_PORT/api/leaderboard"
  local cmd="wrk -t$THREADS -c$CONNS -d${LBV_DURATION}s"
  echo "command: $cmd URL; arena_load votes -c $LBV_CONC --duration $LBV_DURATION (each vote on its own ready battle); both started together; order alternating"
  local slice=0 r
  next_slice() {
    SLICE_FILE=$WORK/lbv-slice.txt
    sed -n "$((slice * LBV_VOTES + 1)),$(((slice + 1) * LBV_VOTES))p" "$WORK/lbv-battles.txt" > "$SLICE_FILE"
    slice=$((slice + 1))
  }
  for r in $(seq "$RUNS"); do
    local lb_alone lb_both v_alone v_both
    phase_lb() {
      lb_alone=$($cmd "$url" | tee "$WORK/lbv-wrk-alone-$r.txt" | awk '/Requests\/sec/ {print $2}')
    }
    phase_votes() {
      next_slice
      v_alone=$("$BIN/arena_load" votes --port "$AGON_PORT" --battles "$SLICE_FILE" \
        -c "$LBV_CONC" --duration "$LBV_DURATION" 2>> "$WORK/lbv-votes.err" || true)
    }
    phase_both() {
      next_slice
      "$BIN/arena_load" votes --port "$AGON_PORT" --battles "$SLICE_FILE" -c "$LBV_CONC" \
        --duration "$LBV_DURATION" > "$WORK/lbv-both-votes.txt" 2>> "$WORK/lbv-votes.err" &
      local vp=$!
      lb_both=$($cmd "$url" | tee "$WORK/lbv-wrk-both-$r.txt" | awk '/Requests\/sec/ {print $2}')
      wait "$vp" || true
      v_both=$(cat "$WORK/lbv-both-votes.txt")
    }
    if [ $((r % 2)) -eq 1 ]; then
      phase_lb; phase_votes; phase_both
    else
      phase_both; phase_votes; phase_lb
    fi
    echo "   votes alone:    $v_alone"
    echo "   votes with wrk: $v_both"
    grep -h "Latency " "$WORK/lbv-wrk-alone-$r.txt" "$WORK/lbv-wrk-both-$r.txt" |
      sed 's/^/   wrk alone, with votes: /' | head -2
    local va vb short=""
    va=$(field "$v_alone" votes_per_s)
    vb=$(field "$v_both" votes_per_s)
    "$PYTHON" -c "import sys; sys.exit(0 if $(field "$v_both" seconds) >= $LBV_DURATION else 1)" ||
      short=" votes_ran_out_before_the_window_ended=1"
    result "lbvotes round=$r lb_rps_alone=$lb_alone lb_rps_with_votes=$lb_both lb_ratio=$("$PYTHON" -c "print('%.3f' % ($lb_both / $lb_alone))") votes_vps_alone=$va votes_vps_with_lb=$vb votes_ratio=$("$PYTHON" -c "print('%.3f' % ($vb / $va))") vote_p99_ms_alone=$(field "$v_alone" p99_ms) vote_p99_ms_with_lb=$(field "$v_both" p99_ms)$short"
  done
  result "lbvotes $(load)"
  stop_bg "$AGON_PID"
  stop_bg "$up_pid"
  echo
}

# ---------------------------------------------------------------- 3
status_field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# "tid name utime stime" (clock ticks) for each thread of process $1
thread_cpu() {
  for t in /proc/"$1"/task/*; do
    echo "$(basename "$t") $(tr -d '()' < "$t/comm" | tr ' ' _) $(cut -d' ' -f14,15 "$t/stat")"
  done | sort
}
summary_line() { # ttft_report.py --json output
  "$PYTHON" -c '
import json, sys
o = json.loads(sys.argv[1])
print("errors=%d added_ttft_p50_ms=%.2f added_ttft_p99_ms=%.2f client_ttft_p50_ms=%.2f "
      "client_ttft_p99_ms=%.2f direct_ttft_p50_ms=%.2f direct_ttft_p99_ms=%.2f "
      "relay_p50_ms=%.2f relay_p99_ms=%.2f" % (
    o["errors"], o["added_ttft"]["0.5"], o["added_ttft"]["0.99"], o["client_ttft"]["0.5"],
    o["client_ttft"]["0.99"], o["direct_ttft"]["0.5"], o["direct_ttft"]["0.99"],
    o["relay"]["0.5"], o["relay"]["0.99"]))' "$1"
}

bench_battles() {
  echo "== 3. $BATTLES battles at once ($((BATTLES * 2)) upstream streams), fake upstream: $CHUNKS chunks, ${INTERVAL_MS} ms apart"
  load
  start_bg upstream "listening on" "$BIN/fake_upstream" --chunks "$CHUNKS" --interval-ms "$INTERVAL_MS"
  local up=$BG_PORT up_pid=$BG_PID
  echo "command: arena_load battles -n $BATTLES -c $BATTLES; arena_load direct -n $((BATTLES * 2)) -c $((BATTLES * 2))"
  for r in $(seq "$RUNS"); do
    write_config "$WORK/battles.ini" "$WORK/battles.db" "$up"
    fresh_db "$WORK/battles.db"
    start_agon "$WORK/battles.ini"
    # warm up: a few battles, so that libcurl and SQLite are past their first use
    "$BIN/arena_load" battles --port "$AGON_PORT" -n 10 -c 2 >/dev/null
    local threads_before
    threads_before=$(status_field "$AGON_PID" Threads)
    # sample the thread count while the battles run (the stop file of the
    # round before must be gone first, or the sampler ends at once)
    rm -f "$WORK/battles.stop" "$WORK/threads.max"
    ( max=0; while kill -0 "$AGON_PID" 2>/dev/null && [ ! -e "$WORK/battles.stop" ]; do
        t=$(status_field "$AGON_PID" Threads); [ "${t:-0}" -gt "$max" ] && max=$t
        echo "$max" > "$WORK/threads.max"; sleep 0.02; done ) &
    local sampler=$!
    curl -s -X POST "http://127.0.0.1:$up/reset" >/dev/null
    local out rc=0
    out=$("$BIN/arena_load" battles --port "$AGON_PORT" -n "$BATTLES" -c "$BATTLES" \
      --out "$WORK/battles-$r.txt" 2> "$WORK/battles-$r.err") || rc=$?
    curl -s "http://127.0.0.1:$up/stats" > "$WORK/upstream-$r.txt"
    touch "$WORK/battles.stop"; wait "$sampler" 2>/dev/null || true
    local hwm threads_after
    hwm=$(status_field "$AGON_PID" VmHWM)
    threads_after=$(status_field "$AGON_PID" Threads)
    echo "   $out"
    head -3 "$WORK/battles-$r.err" | sed 's/^/   stderr: /'
    curl -s -X POST "http://127.0.0.1:$up/reset" >/dev/null
    "$BIN/arena_load" direct --port "$up" -n $((BATTLES * 2)) -c $((BATTLES * 2)) \
      --out "$WORK/direct-$r.txt" | sed 's/^/   /'
    "$PYTHON" bench/ttft_report.py "$WORK/battles-$r.txt" "$WORK/direct-$r.txt" \
      "$WORK/upstream-$r.txt" | sed 's/^/   /'
    local j
    j=$("$PYTHON" bench/ttft_report.py --json "$WORK/battles-$r.txt" "$WORK/direct-$r.txt" "$WORK/upstream-$r.txt")
    result "battles round=$r $(summary_line "$j") peak_rss_kib=$hwm threads_before=$threads_before threads_max=$(cat "$WORK/threads.max") threads_after=$threads_after driver_rc=$rc"
    stop_bg "$AGON_PID"
  done
  result "battles goals: errors=0 added_ttft_p50<2ms added_ttft_p99<20ms peak_rss<262144KiB threads_constant $(load)"
  stop_bg "$up_pid"
  echo
  bench_ramp
}

# 3b. the same battles started RAMP_RATE per second, with answers long
# enough (RAMP_CHUNKS every RAMP_INTERVAL_MS) that all of them are in
# flight at the end: time to first token as concurrency grows.
bench_ramp() {
  echo "== 3b. $BATTLES battles at $RAMP_RATE/s, answers of $RAMP_CHUNKS chunks ${RAMP_INTERVAL_MS} ms apart (all in flight at the end)"
  load
  start_bg upstream "listening on" "$BIN/fake_upstream" --chunks "$RAMP_CHUNKS" --interval-ms "$RAMP_INTERVAL_MS"
  local up=$BG_PORT up_pid=$BG_PID
  write_config "$WORK/battles.ini" "$WORK/battles.db" "$up"
  fresh_db "$WORK/battles.db"
  start_agon "$WORK/battles.ini"
  "$BIN/arena_load" battles --port "$AGON_PORT" -n 10 -c 2 >/dev/null
  echo "command: arena_load battles -n $BATTLES --rate $RAMP_RATE; arena_load direct -n $((BATTLES * 2)) --rate $((RAMP_RATE * 2))"
  local cpu0 cpu1
  cpu0=$(thread_cpu "$AGON_PID")
  curl -s -X POST "http://127.0.0.1:$up/reset" >/dev/null
  "$BIN/arena_load" battles --port "$AGON_PORT" -n "$BATTLES" --rate "$RAMP_RATE" \
    --out "$WORK/ramp.txt" 2> "$WORK/ramp.err" | sed 's/^/   /' || true
  curl -s "http://127.0.0.1:$up/stats" > "$WORK/ramp-upstream.txt"
  cpu1=$(thread_cpu "$AGON_PID")
  local hwm threads
  hwm=$(status_field "$AGON_PID" VmHWM)
  threads=$(status_field "$AGON_PID" Threads)
  stop_bg "$AGON_PID"
  curl -s -X POST "http://127.0.0.1:$up/reset" >/dev/null
  "$BIN/arena_load" direct --port "$up" -n $((BATTLES * 2)) --rate $((RAMP_RATE * 2)) \
    --out "$WORK/ramp-direct.txt" | sed 's/^/   /' || true
  "$PYTHON" bench/ttft_report.py "$WORK/ramp.txt" "$WORK/ramp-direct.txt" \
    "$WORK/ramp-upstream.txt" | sed 's/^/   /'
  echo "   client TTFT by order of start (ms):"
  "$PYTHON" bench/ttft_report.py --by-start "$WORK/ramp.txt" | sed 's/^/   /'
  echo "   agon CPU seconds per thread over the ramp (user+system):"
  join <(echo "$cpu0") <(echo "$cpu1") |
    awk '{printf "      thread %s %s: %.2f s\n", $1, $2, (($6 + $7) - ($3 + $4)) / 100}'
  local j
  j=$("$PYTHON" bench/ttft_report.py --json "$WORK/ramp.txt" "$WORK/ramp-direct.txt" "$WORK/ramp-upstream.txt")
  result "ramp $(summary_line "$j") peak_rss_kib=$hwm threads=$threads $(load)"
  stop_bg "$up_pid"
  echo
}

# ---------------------------------------------------------------- 4
bench_startup() {
  for models in $STARTUP_MODELS; do startup_one "$models"; done
}

startup_one() { # MODELS
  local STARTUP_MODELS=$1
  echo "== 4. startup with $STARTUP_VOTES votes ($STARTUP_MODELS models) in the database; agon recompute"
  load
  local log="$WORK/battles-$STARTUP_VOTES-$STARTUP_MODELS.json"
  local db="$WORK/startup-$STARTUP_VOTES-$STARTUP_MODELS.db"
  if [ ! -s "$db" ]; then
    [ -s "$log" ] || "$PYTHON" bench/gen_battles.py -n "$STARTUP_VOTES" -m "$STARTUP_MODELS" --seed 1 "$log"
    fresh_db "$db.tmp"
    "$AGON" import --db "$db.tmp" "$log"
    mv "$db.tmp" "$db"
  fi
  echo "database: $db, $(du -h "$db" | cut -f1), $(sqlite3 "$db" 'select count(*) from votes') votes"
  {
    printf '[server]\ndatabase = %s\n' "$db"
    for i in $(seq 0 $((STARTUP_MODELS - 1))); do
      printf '[model model_%03d]\nbase_url = http://127.0.0.1:9/v1\n' "$i"
    done
  } > "$WORK/startup.ini"
  echo "command: exec '$AGON serve --config startup.ini --listen 127.0.0.1:0' until its 'listening' line; $STARTUP_RUNS runs, warm page cache"
  local t
  t=$("$PYTHON" - "$AGON" "$WORK/startup.ini" "$STARTUP_RUNS" "$WORK/startup.err" <<'EOF'
import signal, subprocess, sys, time
agon, cfg, runs, log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ts = []
with open(log, "ab") as err:
    for _ in range(runs + 1):      # the first run warms the page cache
        t0 = time.perf_counter()
        p = subprocess.Popen([agon, "serve", "--config", cfg, "--listen", "127.0.0.1:0"],
                             stdout=subprocess.PIPE, stderr=err)
        line = p.stdout.readline()
        ts.append((time.perf_counter() - t0) * 1e3)
        p.send_signal(signal.SIGTERM)
        p.wait()
        if b"listening" not in line:
            sys.exit("agon did not start")
ts = sorted(ts[1:])
print("min=%.1f median=%.1f max=%.1f" % (ts[0], ts[len(ts) // 2], ts[-1]))
EOF
)
  result "startup votes=$STARTUP_VOTES models=$STARTUP_MODELS ms_$t goal_median<100 $(load)"
  local rt=()
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N)
    "$AGON" recompute --db "$db" > "$WORK/recompute.json"
    t1=$(date +%s.%N)
    rt+=("$("$PYTHON" -c "print('%.2f' % ($t1 - $t0))")")
  done
  result "recompute votes=$STARTUP_VOTES seconds=${rt[*]} $(load)"
  echo
}

machine | tee "$WORK/machine.txt"
for w in $WHAT; do
  case $w in
  leaderboard) bench_leaderboard ;;
  votes) bench_votes ;;
  votes256) bench_votes256 ;;
  lbvotes) bench_lbvotes ;;
  battles) bench_battles ;;
  ramp) bench_ramp ;;
  startup) bench_startup ;;
  all) bench_leaderboard; bench_votes; bench_votes256; bench_lbvotes; bench_battles; bench_startup ;;
  *) echo "run.sh: unknown benchmark '$w'" >&2; exit 2 ;;
  esac
done

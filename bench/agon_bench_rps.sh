#!/bin/bash
# agon bench's runner against the least client sending the same requests.
#
#   bench/agon_bench_rps.sh
#
# bench/fake_upstream answers /v1/completions at once (a fixed completion)
# and records each body it gets (--dump). Each round runs, alternating
# which goes first:
#   agon bench --task gsm8k (likelihood mode: /v1/completions, 5-shot
#     prompts of GSM8K's test set) --concurrency CONC, on a fresh database
#     (so every item is asked: nothing to resume), timed from exec to exit;
#     its requests/s are the items over that time (one request an item),
#     which includes reading the data and drawing the shots, storing every
#     item and the scores;
#   bench/min_client replaying the same bodies (the dump of the round's
#     agon run, or of the first one) with CONC in flight.
# Prints a line per measurement and the ratio of the medians.
#
# Environment (defaults in brackets):
#   BUILD [build-bench]  meson build dir configured with -Dbench=true
#   WORK [/tmp/agon-bench-rps]  databases, dumps, logs
#   RUNS [5] CONC [64]
#   DATA [../shared/data/benchmarks/gsm8k_test.jsonl]  the items
#   SHOTS [../shared/data/benchmarks/gsm8k_train.jsonl]  the shots
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD:-$ROOT/build-bench}"
WORK="${WORK:-/tmp/agon-bench-rps}"
RUNS="${RUNS:-5}"
CONC="${CONC:-64}"
DATA="${DATA:-$ROOT/../shared/data/benchmarks/gsm8k_test.jsonl}"
SHOTS="${SHOTS:-$ROOT/../shared/data/benchmarks/gsm8k_train.jsonl}"

if [ ! -f "$BUILD/build.ninja" ]; then
  meson setup "$BUILD" "$ROOT" -Dbench=true --buildtype=release >/dev/null
fi
ninja -C "$BUILD" agon bench/fake_upstream bench/min_client >/dev/null
rm -rf "$WORK" && mkdir -p "$WORK"

"$BUILD/bench/fake_upstream" --port 0 --threads 2 --dump "$WORK/dump.jsonl" \
  >"$WORK/fake.out" 2>"$WORK/fake.err" &
FAKE=$!
trap 'kill $FAKE 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  grep -q "listening on" "$WORK/fake.out" 2>/dev/null && break
  sleep 0.05
done
PORT="$(sed -n 's/.*listening on \([0-9]*\).*/\1/p' "$WORK/fake.out")"
ITEMS="$(grep -c . "$DATA")"

config() { # database
  cat >"$WORK/agon.ini" <<INI
[server]
database = $1

[model fast]
base_url = http://127.0.0.1:$PORT/v1
timeout = 30
INI
}

agon_round() { # round
  local db="$WORK/agon.$1.db"
  config "$db"
  : >"$WORK/dump.jsonl"
  local t0 t1
  t0=$(date +%s.%N)
  "$BUILD/agon" bench --config "$WORK/agon.ini" --task gsm8k --data "$DATA" \
    --shots "$SHOTS" --concurrency "$CONC" >"$WORK/agon.$1.out" 2>"$WORK/agon.$1.err"
  t1=$(date +%s.%N)
  cp "$WORK/dump.jsonl" "$WORK/bodies.$1.jsonl"
  # whole command (items over exec to exit), and the request phase alone
  # (what the runner itself reports: from its first request to its last
  # answer stored)
  python3 -c "import sys; n=int(sys.argv[1]); dt=float(sys.argv[3])-float(sys.argv[2]); print('%.1f' % (n/dt))" \
    "$ITEMS" "$t0" "$t1"
  sed -n 's/.*requests in [0-9.]* s (\([0-9.]*\) requests\/s)/\1/p' "$WORK/agon.$1.err"
}

min_round() { # bodies file
  "$BUILD/bench/min_client" "http://127.0.0.1:$PORT/v1/completions" "$1" "$CONC" |
    sed -n 's/.* \([0-9.]*\) requests\/s/\1/p'
}

echo "machine: $(nproc) cores, $(sed -n 's/model name\s*: //p' /proc/cpuinfo | head -1)"
echo "agon $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); $ITEMS items, concurrency $CONC, $RUNS rounds"
first=""
agon_rates=() run_rates=() min_rates=()
for r in $(seq "$RUNS"); do
  if [ $((r % 2)) -eq 1 ]; then
    read -r a ar < <(agon_round "$r" | tr '\n' ' ') || true
    [ -n "$first" ] || first="$WORK/bodies.$r.jsonl"
    m=$(min_round "$WORK/bodies.$r.jsonl")
  else
    m=$(min_round "$first")
    read -r a ar < <(agon_round "$r" | tr '\n' ' ') || true
  fi
  agon_rates+=("$a") run_rates+=("$ar") min_rates+=("$m")
  echo "round $r: agon bench $a requests/s whole command, $ar requests/s request phase; min_client $m requests/s"
done
python3 - "${agon_rates[*]}" "${run_rates[*]}" "${min_rates[*]}" <<'PY'
import statistics, sys
a, r, m = ([float(x) for x in arg.split()] for arg in sys.argv[1:4])
ma, mr, mm = statistics.median(a), statistics.median(r), statistics.median(m)
print("median: agon bench %.1f requests/s whole command (%.2f of min_client), %.1f requests/s "
      "request phase (%.2f); min_client %.1f requests/s" % (ma, ma / mm, mr, mr / mm, mm))
PY

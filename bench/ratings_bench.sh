#!/bin/sh
# Ratings benchmark: `agon ratings` against a FastChat-style numpy/scipy
# pipeline (bench/fastchat_pipeline.py) on the same generated battle log,
# plus the phases of agon's computation one by one (ratings_core_bench.c).
#
#   bench/ratings_bench.sh            # 1,000,000 battles, 100 models, 1000 rounds
#
# Environment (defaults in brackets):
#   BUILD [build]        meson build directory with agon and server/libagon.a
#   N [1000000] M [100]  battles, models      ROUNDS [1000]  bootstrap rounds
#   PY_ROUNDS [ROUNDS]   rounds for the Python pipeline; when fewer than ROUNDS
#                        its time is extrapolated linearly from runs with 0 and
#                        PY_ROUNDS rounds: t(R) = t(0) + R/PY_ROUNDS * (t(PY_ROUNDS) - t(0))
#   RUNS [3]             runs per agon command (best and mean reported)
#   PY_RUNS [1]          runs per Python command (~40 s each at 1000 rounds)
#   WORK [/tmp/agon-ratings-bench]  where the log and results go
#   PYTHON [/usr/bin/python3]       a Python with numpy and scipy
# Uses hyperfine when installed (Debian: apt-get install hyperfine), else
# /usr/bin/time.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
N=${N:-1000000}
M=${M:-100}
ROUNDS=${ROUNDS:-1000}
PY_ROUNDS=${PY_ROUNDS:-$ROUNDS}
RUNS=${RUNS:-3}
PY_RUNS=${PY_RUNS:-1}
WORK=${WORK:-/tmp/agon-ratings-bench}
PYTHON=${PYTHON:-/usr/bin/python3}
AGON="$BUILD/agon"
mkdir -p "$WORK"
DATA="$WORK/battles-$N-$M.json"

[ -x "$AGON" ] || { echo "ratings_bench: no $AGON (ninja -C $BUILD)" >&2; exit 1; }
"$PYTHON" -c 'import numpy, scipy' 2>/dev/null ||
  { echo "ratings_bench: $PYTHON lacks numpy/scipy (apt-get install python3-numpy python3-scipy)" >&2; exit 1; }
if [ "$PY_ROUNDS" -gt "$ROUNDS" ]; then PY_ROUNDS=$ROUNDS; fi

echo "== machine"
lscpu | head -n 20 | grep -E 'Model name|^CPU\(s\)|Thread|MHz|L2|L3' || true
echo "nproc: $(nproc)"
echo

if [ ! -s "$DATA" ]; then
  "$PYTHON" bench/gen_battles.py -n "$N" -m "$M" --seed 1 "$DATA"
fi
echo "== data: $DATA ($(du -h "$DATA" | cut -f1)), $N battles among $M models"
echo

echo "== phases of agon's computation (bench/ratings_core_bench.c, best of 3)"
cc -O2 -std=c17 -I server -I "$BUILD/server" bench/ratings_core_bench.c \
  "$BUILD/server/libagon.a" -ljansson -lm -pthread -o "$WORK/ratings_core_bench"
"$WORK/ratings_core_bench" "$DATA" "$ROUNDS" "$(nproc)" 3
echo

# time_cmd NAME RUNS COMMAND...: prints "NAME best mean" (seconds) to $WORK/times
: > "$WORK/times"
time_cmd() {
  name=$1 runs=$2
  shift 2
  if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --style basic --runs "$runs" --export-json "$WORK/$name.json" \
      --command-name "$name" "$*" >&2
    "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(sys.argv[2], min(r["times"]), r["mean"], r["user"] + r["system"])' \
      "$WORK/$name.json" "$name" >> "$WORK/times"
  else
    i=0 all=""
    while [ $i -lt "$runs" ]; do
      /usr/bin/time -f "%e %U %S" -o "$WORK/t" sh -c "$*" >/dev/null
      all="$all $(cat "$WORK/t")"
      i=$((i + 1))
    done
    echo "$all" | "$PYTHON" -c 'import sys; v=[float(x) for x in sys.stdin.read().split()]; t=v[0::3]; c=[u+s for u,s in zip(v[1::3],v[2::3])]; print(sys.argv[1], min(t), sum(t)/len(t), sum(c)/len(c))' "$name" >> "$WORK/times"
  fi
}

echo "== whole process (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
time_cmd agon "$RUNS" "$AGON ratings --json --anony-only --bootstrap $ROUNDS --seed 1 $DATA > $WORK/agon.out"
time_cmd agon_1thread "$RUNS" "$AGON ratings --json --anony-only --bootstrap $ROUNDS --seed 1 --threads 1 $DATA > /dev/null"
time_cmd agon_b0 "$RUNS" "$AGON ratings --json --anony-only --bootstrap 0 $DATA > /dev/null"
time_cmd python_b0 "$PY_RUNS" "$PYTHON bench/fastchat_pipeline.py --json --bootstrap 0 $DATA > /dev/null 2>&1"
time_cmd python_bR "$PY_RUNS" "$PYTHON bench/fastchat_pipeline.py --json --bootstrap $PY_ROUNDS --seed 1 $DATA > $WORK/python.out 2> $WORK/python.err"
cat "$WORK/python.err" >&2
echo

"$PYTHON" - "$WORK" "$ROUNDS" "$PY_ROUNDS" <<'EOF'
import json, sys
work, R, PR = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = {}
for line in open(work + "/times"):
    name, best, mean, cpu = line.split()
    t[name] = (float(best), float(mean), float(cpu))
def show(label, v):
    print("%-50s wall best %7.2f s  mean %7.2f s   cpu (user+sys) mean %7.2f s"
          % (label, v[0], v[1], v[2]))
show("agon ratings, %d rounds (all cores)" % R, t["agon"])
show("agon ratings, %d rounds, --threads 1" % R, t["agon_1thread"])
show("agon ratings, 0 rounds (parse, Elo, fit)", t["agon_b0"])
show("python pipeline, 0 rounds", t["python_b0"])
show("python pipeline, %d rounds" % PR, t["python_bR"])
if PR < R:
    ext = tuple(b0 + R / PR * (bR - b0) for b0, bR in zip(t["python_b0"], t["python_bR"]))
    print("(python at %d rounds extrapolated linearly from 0 and %d rounds)" % (R, PR))
    show("python pipeline, %d rounds (extrapolated)" % R, ext)
else:
    ext = t["python_bR"]
print("ratio python / agon (best times): %.1fx (agon --threads 1: %.1fx)"
      % (ext[0] / t["agon"][0], ext[0] / t["agon_1thread"][0]))
a = {m["model"]: m for m in json.load(open(work + "/agon.out"))["models"]}
p = {m["model"]: m for m in json.load(open(work + "/python.out"))["models"]}
print("agreement: max |elo diff| %.2g, max |bt diff| %.2g (L-BFGS-B tolerance)"
      % (max(abs(a[m]["elo"] - p[m]["elo"]) for m in a),
         max(abs(a[m]["bt"] - p[m]["bt"]) for m in a)))
EOF

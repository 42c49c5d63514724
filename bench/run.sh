#!/usr/bin/env bash
# Speed and memory of the whole job on synthetic provinces (not part of CI). Builds the release
# binary, generates a realistic world per size with `recon synth`, runs the job over it under
# /usr/bin/time, and prints per size: data rows, wall time and peak RSS of the run, time per
# stage (from run.json), rows per second, and the ratio of each size's wall time to the first
# size's. Sizes are registry persons; a world has about 29 data rows per registry person.
#
#     bash bench/run.sh                 # SIZES="100000 300000"
#     SIZES="20000 100000" bash bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-"100000 300000"}
work=${WORK:-$(mktemp -d)}
cargo build --release -q
bin=./target/release/recon
printf '%-9s %10s %8s %9s %9s %8s %9s %8s %8s %8s %8s %7s\n' persons rows wall_s peak_MiB rows/s ingest normalize link rules ledger report+ ratio
first=""
for n in $sizes; do
  world="$work/world_$n"
  rm -rf "$world"
  $bin synth --persons "$n" --seed 1 --noise realistic --out "$world" >/dev/null
  /usr/bin/time -f '%e %M' -o "$world/time" $bin run -q --as-of 2020-06-30 --out "$world/out" "$world/data"
  read -r wall kb <"$world/time"
  python3 - "$world/out/run.json" "$n" "$wall" "$kb" "${first:-$wall}" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
n, wall, kb, first = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
t, rows = run["timings_seconds"], run["counts"]["rows_read"]
stage = lambda s: f"{t.get(s, 0):8.2f}"
rest = wall - sum(t.values())  # the report stage, start-up and exit: run.json is written before they end
print(f"{n:<9} {rows:>10} {wall:8.1f} {kb/1024:9.0f} {rows/wall:9.0f} {stage('ingest')} {t.get('normalize', 0):9.2f} {stage('link')} {stage('rules')} {stage('ledger')} {rest:8.2f} {wall/first:7.2f}")
PY
  first=${first:-$wall}
  rm -rf "$world"
done

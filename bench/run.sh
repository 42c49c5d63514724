#!/usr/bin/env bash
# Speed and memory of the whole job on synthetic provinces (not part of CI). Builds the release
# binary and the read floor (bench/readfloor, a minimal polars + calamine program that reads the
# same files as text), then per size: generates a realistic world with `recon synth`, times the
# read floor, runs the job under /usr/bin/time with JSON logs, and prints wall time, peak RSS,
# rows per second, bytes of memory per row, the run over the read floor, and per stage its
# seconds and the peak RSS when it ended, then the run's accuracy against the world's truth
# (`recon eval`, after the timing). Ends with each size over the first: rows, wall time, peak
# memory. Sizes are registry persons; a world has about 29 data rows per registry person.
# Each size is run REPEATS times (default 1) and its median run reported; the first size, which
# every ratio divides by, at least three times (a lone first run was often the slowest).
#
#     bash bench/run.sh                              # SIZES="100000 300000 1000000"
#     SIZES="20000 100000" bash bench/run.sh
#     REPEATS=3 bash bench/run.sh                    # the median of three runs of every size
#     SAME_LISTS=1 bash bench/run.sh                 # also rerun the largest world 4,096 rows at
#                                                    # a time and compare the gap lists
#     SIZES="100000 1000000" PROVINCES="11 37" bash bench/run.sh
#                                                    # each size in its own province (default 42,
#                                                    # Hubei's 104 counties): 100,000 in Beijing's 16
#                                                    # and a million in Shandong's 151 have counties
#                                                    # of about the same size
#
# Needs about 2.5 GB of disk a million persons (the world is deleted after its size) and 8 GiB
# of memory at a million. WORK picks the scratch folder.
set -euo pipefail
# A failing step stops the bench; say which (a full disk fails a run, not the script).
trap 'echo "bench/run.sh: stopped at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
sizes=${SIZES:-"100000 300000 1000000"}
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
cargo build --release -q
cargo build --release -q --manifest-path bench/readfloor/Cargo.toml
bin=$PWD/target/release/recon
# One key secret for every run here, so lists from two runs can be compared byte for byte.
export RECON_KEY_SECRET=${RECON_KEY_SECRET:-"bench runs only: compare lists across runs"}
floor=$PWD/bench/readfloor/target/release/readfloor
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
  "commit $(git describe --always --dirty); $(date -u +%F); scratch $work"
summary=$work/summary.tsv
: >"$summary"
last=""
first_size=${sizes%% *}
read -r -a provinces <<<"${PROVINCES:-}"
index=0
for n in $sizes; do
  province=${provinces[$index]:-42}
  index=$((index + 1))
  world="$work/world_$n"
  rm -rf "$world"
  $bin synth --persons "$n" --province "$province" --seed 1 --noise realistic --out "$world" >/dev/null
  bytes=$(du -sb "$world/data" | cut -f1)
  floor_s=$($floor "$world/data" | awk '{print $4}')
  repeats=${REPEATS:-1}
  [ "$n" != "$first_size" ] || [ "$repeats" -ge 3 ] || repeats=3
  for r in $(seq "$repeats"); do
    /usr/bin/time -f '%e %M' -o "$world/time_$r" \
      $bin --log-format json run --as-of 2020-06-30 --out "$world/out_$r" "$world/data" 2>"$world/log_$r.jsonl" >/dev/null
  done
  # The median run (by wall time) becomes out/, time and log.jsonl; the others are removed.
  median=$(for r in $(seq "$repeats"); do echo "$(cut -d' ' -f1 "$world/time_$r") $r"; done | sort -n | awk '{r[NR] = $2} END {print r[int((NR + 1) / 2)]}')
  walls=$(for r in $(seq "$repeats"); do cut -d' ' -f1 "$world/time_$r"; done | paste -sd/ | sed 's|/| / |g')
  mv "$world/out_$median" "$world/out"
  mv "$world/time_$median" "$world/time"
  mv "$world/log_$median.jsonl" "$world/log.jsonl"
  rm -rf "$world"/out_* "$world"/time_* "$world"/log_*.jsonl
  $bin eval --truth "$world/truth" --json "$world/eval.json" "$world/out" >/dev/null
  python3 - "$world" "$n" "$bytes" "$floor_s" "$summary" "$repeats" "$walls" "$province" <<'PY'
import json, sys
world, n, data_bytes, floor, summary = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
repeats, walls, province = int(sys.argv[6]), sys.argv[7], sys.argv[8]
wall, kb = open(f"{world}/time").read().split()
wall, peak = float(wall), int(kb) / 1024
run = json.load(open(f"{world}/out/run.json"))
rows = run["counts"]["rows_read"]
done = {}
for line in open(f"{world}/log.jsonl"):
    event = json.loads(line)
    if event.get("message") == "stage done":
        done[event["stage"]] = event
# Rows are read while they are normalized: run.json splits that time into reading (ingest)
# and normalizing; the log's peak after "normalize" covers both.
t = run["timings_seconds"]
seconds = {"ingest": t["ingest"], "normalize": t["normalize"]}
seconds.update({s: done[s]["seconds"] for s in ("link", "rules", "report")})
stages = ["ingest", "normalize", "link", "rules", "report"]
print(f"{n:,} persons in province {province}: {rows:,} rows, {data_bytes / 1e6:,.0f} MB of CSV/XLSX")
print(f"  read floor  {floor:8.1f} s")
print(f"  recon run   {wall:8.1f} s   peak {peak:,.0f} MiB   {rows / wall:,.0f} rows/s   "
      f"{peak * 2**20 / rows:.0f} bytes/row   {wall / floor:.1f}x the read floor")
if repeats > 1:
    print(f"  median of {repeats} runs: {walls} s (the figures here are the median run's)")
print("  stage       " + "".join(f"{s:>11}" for s in stages))
print("  seconds     " + "".join(f"{seconds[s]:11.1f}" for s in stages))
print("  peak MiB    " + "".join(f"{done[s]['peak_mib']:11,}" for s in stages))
scores = json.load(open(f"{world}/eval.json"))
gaps, linkage = scores["overall"], scores["linkage"]
print(f"  accuracy    gaps P {gaps['precision']:.4f} R {gaps['recall']:.4f} F1 {gaps['f1']:.4f}   "
      f"linkage P {linkage['precision']:.4f} R {linkage['recall']:.4f} F1 {linkage['f1']:.4f}")
with open(summary, "a") as out:
    out.write(f"{n}\t{rows}\t{wall}\t{peak}\t{floor}\n")
PY
  last=$world
  [ "$n" = "${sizes##* }" ] || rm -rf "$world"
done
python3 - "$summary" <<'PY'
import sys
sizes = [line.split("\t") for line in open(sys.argv[1])]
n0, rows0, wall0, peak0, _ = map(float, sizes[0])
print(f"each size over {int(n0):,} persons:")
for n, rows, wall, peak, floor in (map(float, s) for s in sizes[1:]):
    print(f"  {int(n):>9,}: rows {rows / rows0:5.1f}x   wall {wall / wall0:5.1f}x   peak memory {peak / peak0:5.1f}x")
PY
if [ -n "${SAME_LISTS:-}" ]; then
  RECON_CHUNK_ROWS=4096 $bin run -q --as-of 2020-06-30 --out "$last/out_small" "$last/data"
  for f in gaps.csv links.csv review.csv rejects.csv; do
    cmp -s "$last/out/$f" "$last/out_small/$f" && echo "  $f: the same when read 4,096 rows at a time" \
      || echo "  $f: DIFFERS when read 4,096 rows at a time"
  done
fi
rm -rf "$last"

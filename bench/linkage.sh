#!/usr/bin/env bash
# recon's linker beside Splink 5 + DuckDB, in one invocation on this machine (not part of CI).
# For each gen_cn size (persons per list) and for FEBRL4, runs Splink's script and
# `recon link`, each under /usr/bin/time, scores both with the same metrics.py, and prints
# wall time, peak RSS, the linkage work alone (Splink: train + predict; recon: train to
# clusters, reading excluded for both) and F1, with the ratio Splink / recon.
#
#     bash bench/linkage.sh                  # SIZES="1000000", REPEATS=3 (medians)
#     SIZES="1000000 5000000" REPEATS=1 bash bench/linkage.sh
#
# Needs Python 3 with venv and network access to PyPI once (bench/peers/.venv, pinned in
# bench/peers/requirements.txt); data goes to bench/peers/data (about 2 minutes and 120 MB for
# a million persons a list, 38 minutes for five million, generated once).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-"1000000"}
repeats=${REPEATS:-3}
peers=bench/peers
py=$peers/.venv/bin/python
work=${WORK:-$(mktemp -d)}
mkdir -p "$work"
if [ ! -x "$py" ]; then
  python3 -m venv "$peers/.venv"
  "$peers/.venv/bin/pip" install -q -r "$peers/requirements.txt"
fi
cargo build --release -q
bin=$PWD/target/release/recon

timed() { # timed NAME cmd... -> $work/NAME.time holds "wall_s peak_kb"
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1
}

run_pair() { # run_pair LABEL SPLINK_CMD... -- RECON_ARGS... ; SCORE_ARGS in $score
  local label=$1; shift
  local splink=() recon=()
  while [ "$1" != "--" ]; do splink+=("$1"); shift; done; shift
  recon=("$@")
  for r in $(seq 1 "$repeats"); do  # interleaved, so both see the same machine
    timed "splink_${label}_$r" "${splink[@]}" --json-out "$work/splink_${label}_$r.json"
    timed "recon_${label}_$r" "$bin" link "${recon[@]}" --out "$work/recon_${label}_$r"
  done
  (cd $peers && .venv/bin/python score_recon.py --pairs "$work/recon_${label}_1/pairs.csv" $score \
      --json-out "$work/recon_$label.json") >"$work/score_$label.log"
  "$py" - "$work" "$label" "$repeats" <<'PY'
import json, statistics, sys
work, label, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
def median(values):
    return statistics.median(values)
def timing(tool):
    runs = [open(f"{work}/{tool}_{label}_{r}.time").read().split() for r in range(1, repeats + 1)]
    return median(float(w) for w, _ in runs), median(int(kb) / 1024 for _, kb in runs)
def f1(res, cut):
    return next(r["f1"] for r in res["rows"] if r["label"] == cut)
splink = [json.load(open(f"{work}/splink_{label}_{r}.json")) for r in range(1, repeats + 1)]
s_link = median(sum(s["phases"].get(k, 0) for k in ("train_lambda", "train_u", "train_em", "predict")) for s in splink)
r_link = median(sum(sec for _, sec in json.load(open(f"{work}/recon_{label}_{r}/counts.json"))["seconds"]) for r in range(1, repeats + 1))
r = json.load(open(f"{work}/recon_{label}.json"))
(sw, sm), (rw, rm) = timing("splink"), timing("recon")
prob, decided = r["by match probability"], r["recon's decision (linked pairs)"]
s = splink[0]
print(f"{label:<14} splink  wall {sw:7.1f} s  peak {sm:7.0f} MiB  linkage {s_link:6.2f} s  "
      f"F1 p>=0.5 {f1(s, 'p>=0.5'):.4f}  best {f1(s, 'best-F1'):.4f}")
print(f"{'':<14} recon   wall {rw:7.1f} s  peak {rm:7.0f} MiB  linkage {r_link:6.2f} s  "
      f"F1 p>=0.5 {f1(prob, 'p>=0.5'):.4f}  best {f1(prob, 'best-F1'):.4f}  "
      f"linked pairs {f1(decided, 'p>=0.5'):.4f}")
print(f"{'':<14} splink / recon (medians of {repeats}): linkage {s_link / r_link:.2f}x, "
      f"wall {sw / rw:.2f}x, peak memory {sm / rm:.2f}x")
PY
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; commit $(git describe --always --dirty); results in $work"
for n in $sizes; do
  data=$PWD/$peers/data/cn_$n
  [ -f "$data/B.csv" ] || (cd $peers && .venv/bin/python gen_cn.py --n "$n" --out "$data" >/dev/null)
  score="--truth $data/truth_pairs.csv"
  run_pair "gen_cn_$n" "$py" $peers/splink_cn.py --data "$data" -- \
      --config configs/link_cn.toml "$data/A.csv" "$data/B.csv"
done
febrl=$PWD/$peers/data/febrl4
[ -f "$febrl/B.csv" ] || (cd $peers && .venv/bin/python febrl4_export.py --out "$febrl")
score="--febrl4"
run_pair "febrl4" "$py" $peers/febrl4_splink.py --model full -- \
    --config configs/link_febrl4.toml "$febrl/A.csv" "$febrl/B.csv"

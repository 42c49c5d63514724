#!/usr/bin/env bash
# What a province run alone gets wrong that a run over the whole nation does not (not part of
# CI). Builds the release binary, makes a realistic nation with `recon synth --provinces`,
# runs the job once over every province's folder and once over each province's folder alone,
# and prints: the whole run's time, peak memory and accuracy (`recon eval`); then per
# province its true gaps, and the false and missed gaps of its run alone and of the whole
# run's list for its files, the false and missed ones by rule (the largest four).
#
#     bash bench/nation.sh                       # PROVINCES=4 PERSONS=50000
#     PROVINCES=2 PERSONS=20000 bash bench/nation.sh
#
# Needs about 1 GB of disk and 1.5 GiB of memory at the defaults. WORK picks the scratch folder.
set -euo pipefail
trap 'echo "bench/nation.sh: stopped at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
provinces=${PROVINCES:-4}
persons=${PERSONS:-50000}
work=${WORK:-$(mktemp -d)}
cargo build --release -q
bin=$PWD/target/release/recon
export RECON_KEY_SECRET=${RECON_KEY_SECRET:-"bench runs only: compare lists across runs"}
nation=$work/nation
rm -rf "$nation"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
  "commit $(git describe --always --dirty); $(date -u +%F); scratch $work"
$bin synth --persons "$persons" --provinces "$provinces" --seed 1 --noise realistic --out "$nation" >/dev/null
/usr/bin/time -f '%e %M' -o "$nation/time" \
  $bin run -q --as-of 2020-06-30 --out "$nation/whole" "$nation/data"
$bin eval --truth "$nation/truth" --json "$nation/eval.json" "$nation/whole" >/dev/null
for folder in "$nation"/data/*/; do
  province=$(basename "$folder")
  $bin run -q --as-of 2020-06-30 --out "$nation/alone_$province" "$folder"
done
python3 - "$nation" "$provinces" "$persons" <<'PY'
import collections, csv, glob, json, os, sys
nation, provinces, persons = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def gaps(path, prefix):
    with open(path, encoding='utf-8-sig') as f:
        return {(r['rule_id'], r['source_file'], r['source_row'])
                for r in csv.DictReader(f) if r['source_file'].startswith(prefix)}

def by_rule(found):
    counts = collections.Counter(rule for rule, _, _ in found)
    return f"{len(found)} ({', '.join(f'{r} {n}' for r, n in counts.most_common(4))})"

wall, kib = open(os.path.join(nation, 'time')).read().split()
e = json.load(open(os.path.join(nation, 'eval.json')))
print(f"{provinces} provinces of {persons:,} registry persons")
print(f"  whole nation: {float(wall):.1f} s, peak {int(kib) // 1024:,} MiB; gaps P {e['overall']['precision']:.4f}"
      f" R {e['overall']['recall']:.4f} F1 {e['overall']['f1']:.4f}; linkage F1 {e['linkage']['f1']:.4f}")
truth_path = os.path.join(nation, 'truth', 'expected_gaps.csv')
for alone in sorted(glob.glob(os.path.join(nation, 'alone_*'))):
    province = os.path.basename(alone)[len('alone_'):]
    # A province's files are named after it: 湖北省_医保_参保登记_本年度.csv.
    prefix = province.split('_', 1)[1] + '_'
    truth = gaps(truth_path, prefix)
    alone_gaps = gaps(os.path.join(alone, 'gaps.csv'), prefix)
    whole_gaps = gaps(os.path.join(nation, 'whole', 'gaps.csv'), prefix)
    print(f"  {province}: {len(truth):,} true gaps")
    print(f"    alone: false {by_rule(alone_gaps - truth)}, missed {by_rule(truth - alone_gaps)}")
    print(f"    whole: false {by_rule(whole_gaps - truth)}, missed {by_rule(truth - whole_gaps)}")
PY

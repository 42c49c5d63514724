#!/usr/bin/env bash
# The national run on Spark against one machine (not part of CI). Builds the release binary,
# installs PySpark into the scratch folder when no SPARK_HOME is given, makes a realistic
# nation with `recon synth --provinces`, runs `recon national` on it, then on one machine the
# same files with the national run's model (the reference it must equal) and with a model of
# its own, and prints: times and peaks, per province the gap lines the national run and the
# reference do not share, the review pairs likewise, and `recon eval` of both against the truth.
# The provinces' ledgers go to WORK/ledgers, the night's national report to WORK/national/report.
#
#     bash bench/national.sh                        # PROVINCES=4 PERSONS=20000, local[2]
#     WORKERS=3 KILL_AFTER=60 bash bench/national.sh
#
# WORKERS=N starts a standalone Spark master and N one-core workers on this machine instead of
# local mode; KILL_AFTER=S then kills one worker's whole process tree S seconds into the run
# (as a lost machine or container), and the run must still finish with the same lists.
# Needs about 2 GB of disk and 3 GiB of memory at the defaults. WORK picks the scratch folder.
set -euo pipefail
trap 'echo "bench/national.sh: stopped at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
provinces=${PROVINCES:-4}
persons=${PERSONS:-20000}
work=$(realpath "${WORK:-$(mktemp -d)}")
cargo build --release -q
bin=$PWD/target/release/recon
export RECON_KEY_SECRET=${RECON_KEY_SECRET:-"bench runs only: compare lists across runs"}
if [ -z "${SPARK_HOME:-}" ]; then
  venv=$work/spark-venv
  [ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q pyspark==4.3.0; }
  SPARK_HOME=$("$venv/bin/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
  export SPARK_HOME PYSPARK_PYTHON=$venv/bin/python
fi
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; commit $(git describe --always --dirty);" \
  "$(date -u +%F); Spark $("$SPARK_HOME/bin/spark-submit" --version 2>&1 | grep -m1 -o 'version [0-9.]*'); scratch $work"
nation=$work/nation
rm -rf "$nation" "$work/national" "$work/one" "$work/whole" "$work/merged" "$work/ledgers" "$work/one.sqlite"
$bin synth --persons "$persons" --provinces "$provinces" --seed 1 --noise realistic --out "$nation" >/dev/null

master="local[2]"
if [ -n "${WORKERS:-}" ]; then
  master=spark://127.0.0.1:7077
  class=$SPARK_HOME/bin/spark-class
  setsid "$class" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port 7077 --webui-port 8090 \
    >"$work/master.log" 2>&1 &
  master_pid=$!
  worker_pids=()
  for i in $(seq "$WORKERS"); do
    setsid "$class" org.apache.spark.deploy.worker.Worker --cores 1 --memory 2g --webui-port $((8090 + i)) \
      --work-dir "$work/worker$i" "$master" >"$work/worker$i.log" 2>&1 &
    worker_pids+=($!)
  done
  trap 'kill -9 -- -$master_pid ${worker_pids[*]/#/-} 2>/dev/null || true' EXIT
  sleep 15
fi
if [ -n "${KILL_AFTER:-}" ]; then
  # The first worker's whole session (the worker, its executor, their Python and recon
  # children), as when a machine or container is lost.
  (sleep "$KILL_AFTER"; echo "killing worker 1 at ${KILL_AFTER}s"; kill -9 -- -"${worker_pids[0]}") &
fi
/usr/bin/time -f '%e %M' -o "$work/national.time" \
  $bin national --master "$master" --out "$work/national" --as-of 2020-06-30 --ledgers "$work/ledgers" "$nation"/data/* \
  2>"$work/national.log" | sed 's/^/  /'
/usr/bin/time -f '%e %M' -o "$work/one.time" \
  $bin run -q --as-of 2020-06-30 --model "$work/national/model.json" --ledger "$work/one.sqlite" \
  --out "$work/one" "$nation/data"
# (With a ledger, as the provinces' runs: a gap line says what the ledger made of it.)
$bin run -q --as-of 2020-06-30 --out "$work/whole" "$nation/data"
python3 - "$work" <<'PY'
import collections, csv, glob, os, shutil, sys
work = sys.argv[1]
merged = os.path.join(work, 'merged')
os.makedirs(merged)
provinces = sorted(glob.glob(os.path.join(work, 'national', 'provinces', '*')))
for name in ['gaps.csv', 'links.csv']:
    with open(os.path.join(merged, name), 'w', encoding='utf-8') as out:
        for i, province in enumerate(provinces):
            with open(os.path.join(province, name), encoding='utf-8-sig') as f:
                lines = f.readlines()
            out.writelines(lines if i == 0 else lines[1:])
shutil.copy(os.path.join(provinces[0], 'run.json'), merged)
PY
$bin eval --truth "$nation/truth" --json "$work/national_eval.json" "$work/merged" >/dev/null
$bin eval --truth "$nation/truth" --json "$work/whole_eval.json" "$work/whole" >/dev/null
python3 - "$work" "$provinces" "$persons" <<'PY'
import collections, csv, glob, json, os, sys
work, provinces, persons = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])

def lines(path, prefix=''):
    with open(path, encoding='utf-8-sig') as f:
        next(f)
        return collections.Counter(l for l in f if next(csv.reader([l]))[4].startswith(prefix))

def time(name):
    wall, kib = open(os.path.join(work, name + '.time')).read().split()
    return f"{float(wall):.1f} s, peak {int(kib) // 1024:,} MiB"

summary = json.load(open(os.path.join(work, 'national', 'national.json')))
print(f"{provinces} provinces of {persons:,} registry persons")
print(f"  national run: {time('national')} (the driver); stages {summary['seconds']}")
print(f"  one machine, the national model: {time('one')}")
differing = total = 0
for p in summary['provinces']:
    name = p['province']
    prefix = name.split('_', 1)[1] + '_'
    ours = lines(os.path.join(work, 'national', 'provinces', name, 'gaps.csv'))
    ref = lines(os.path.join(work, 'one', 'gaps.csv'), prefix)
    apart = sum((ours - ref).values()) + sum((ref - ours).values())
    differing += apart; total += sum(ref.values())
    rules = collections.Counter(next(csv.reader([l]))[0] for l in (ours - ref) + (ref - ours))
    print(f"  {name}: {p['shard_seconds']} s alone, {p['province_seconds']} s with the rows brought;"
          f" {sum(ref.values()):,} gap lines, {apart} not shared with one machine {dict(rules)}")
print(f"  all: {differing} of {total:,} gap lines not shared ({differing / max(total, 1):.4%})")
# Each review pair is listed once, by its subject's province: together, the one machine's list.
def review(path):
    with open(path, encoding='utf-8-sig') as f:
        next(f)
        return collections.Counter(f)
ours = sum((review(p) for p in glob.glob(os.path.join(work, 'national', 'provinces', '*', 'review.csv'))),
           collections.Counter())
ref = review(os.path.join(work, 'one', 'review.csv'))
apart = sum((ours - ref).values()) + sum((ref - ours).values())
print(f"  review pairs: {sum(ours.values()):,} listed by the provinces, {sum(ref.values()):,} by one machine,"
      f" {apart} not shared; listed twice: {sum(n - 1 for n in ours.values() if n > 1)}")
for label, name in [('national', 'national_eval.json'), ('one machine, own model', 'whole_eval.json')]:
    e = json.load(open(os.path.join(work, name)))
    cross = {r: e['rules'][r] for r in ['MED-01', 'AUD-01', 'AUD-05', 'EDU-01'] if r in e['rules']}
    shown = ', '.join(f"{r} P {s['precision']:.4f} R {s['recall']:.4f}" for r, s in cross.items())
    print(f"  eval, {label}: gaps P {e['overall']['precision']:.4f} R {e['overall']['recall']:.4f}"
          f" F1 {e['overall']['f1']:.4f}; linkage F1 {e['linkage']['f1']:.4f}; {shown}")
PY

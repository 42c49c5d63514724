#!/usr/bin/env bash
# Long runs of the no-panic and no-row-lost properties (not in CI, where each runs its default
# 256 cases): every property below gets CASES random cases (default 1,000,000) in a release
# build, stopped after SECONDS_EACH seconds (default 300) if not done. A failing case is
# shrunk and saved by proptest under proptest-regressions/, so it runs in every later `cargo
# test`: commit it with the fix.
#
#     bash fuzz/run.sh
#     CASES=20000 SECONDS_EACH=60 bash fuzz/run.sh
#     ONLY=grid bash fuzz/run.sh                     # the properties whose path holds "grid"
set -uo pipefail
cd "$(dirname "$0")/.."
cases=${CASES:-1000000}
seconds=${SECONDS_EACH:-300}
properties=(
  model::id_number::tests::any_cell_parses_without_panic
  model::date::tests::never_panics
  model::name::tests::any_text_makes_a_clean_name
  ingest::grid::tests::any_bytes_read_without_panic
  ingest::grid::tests::a_truncated_workbook_reads_without_panic
  ingest::grid::tests::every_line_is_one_row_whatever_its_quotes
  ingest::headers::tests::any_header_row_assigns_without_panic
  config::settings::tests::any_config_text_loads_without_panic
)
# The test binary is built once and run directly, so editing the sources meanwhile changes
# nothing here.
binary=$(cargo test --release --lib --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["kind"] == ["lib"]:
        print(m["executable"])') || exit 1
[ -x "$binary" ] || { echo "no test binary built"; exit 1; }
failed=0
for property in "${properties[@]}"; do
  [[ $property == *"${ONLY:-}"* ]] || continue
  started=$(date +%s)
  PROPTEST_CASES=$cases timeout "$seconds" "$binary" -q --exact "$property" >/tmp/fuzz-$$.log 2>&1
  code=$?
  elapsed=$(( $(date +%s) - started ))
  case $code in
    0) echo "ok       $property: $cases cases in ${elapsed}s" ;;
    124) echo "ok       $property: stopped after ${seconds}s, no failure" ;;
    *) echo "FAILED   $property (see proptest-regressions/)"; grep -A5 "minimal failing input" /tmp/fuzz-$$.log; failed=1 ;;
  esac
done
rm -f /tmp/fuzz-$$.log
exit $failed

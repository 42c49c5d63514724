#!/usr/bin/env bash
# The morning report in a real browser: renders report.html of a three-night run over
# sample_data/ in headless Chromium (Debian's package), fails on any console error or failed
# load, checks the page's title and sections in the rendered DOM, and keeps a screenshot at
# desktop width in docs/report.png. Not part of CI (it installs a browser); run it by hand:
#
#     bash docs/check-report.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null || ! fc-list | grep -qi 'noto sans cjk'; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
cargo build -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for night in 2020-06-30 2020-07-01 2020-07-02; do
  ./target/debug/recon run -q --as-of "$night" --ledger "$work/ledger.sqlite" --out "$work/out" sample_data/
done
page="file://$work/out/report.html"
browser=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --user-data-dir="$work/profile" --enable-logging=stderr --v=0)
"${browser[@]}" --dump-dom "$page" >"$work/dom.html" 2>"$work/console.log"
if grep -E 'CONSOLE|Uncaught|Failed to load|net::ERR' "$work/console.log"; then
  echo "FAIL: the page logged errors" >&2
  exit 1
fi
for expected in '残疾人困难群体数据比对晨报' '重点督办区县' '分县覆盖率' '台账变化' '数据质量' '<svg'; do
  grep -q "$expected" "$work/dom.html" || { echo "FAIL: the rendered page lacks $expected" >&2; exit 1; }
done
"${browser[@]}" --hide-scrollbars --window-size=1280,3700 --screenshot="$work/report.png" "$page" 2>/dev/null
cp "$work/report.png" docs/report.png
echo "OK: the page loads without errors; screenshot in docs/report.png"

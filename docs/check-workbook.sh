#!/usr/bin/env bash
# The county work form as a county prints it: runs recon over sample_data/, converts 房县's
# workbook to PDF with LibreOffice (headless), checks that every page is landscape, that the
# sheet 说明 (A4) and the lists (A3, one page wide) print with their headings and the editable
# columns, and keeps the first page as docs/county-workbook-1.png (说明) and the top of the
# second as docs/county-workbook-2.png (the first list). Not part of CI (it installs LibreOffice); run it by hand:
#
#     bash docs/check-workbook.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null \
  || ! fc-list | grep -qi 'noto sans cjk'; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    libreoffice-calc-nogui poppler-utils fonts-noto-cjk >/dev/null
fi
cargo build -q
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./target/debug/recon run -q --as-of 2020-06-30 --out "$work/out" sample_data/
cp "$work/out/counties/420325_房县.xlsx" "$work/county.xlsx"
HOME="$work" soffice --headless --convert-to pdf --outdir "$work" "$work/county.xlsx" >/dev/null
pdf="$work/county.pdf"
pages=$(pdfinfo "$pdf" | awk '/^Pages:/ {print $2}')
[ "$pages" -ge 2 ] || { echo "FAIL: $pages page(s)" >&2; exit 1; }
pdfinfo -f 1 -l "$pages" "$pdf" | awk '/size:/ {if ($4 < $6) bad=1} END {exit bad}' \
  || { echo "FAIL: a page is not landscape" >&2; exit 1; }
pdftotext -layout "$pdf" "$work/county.txt"
for expected in '残疾人数据比对核查清单' '填写说明' '医疗保障部门' '核查结果' '整改情况' '完成时限' '第 1 页'; do
  grep -q "$expected" "$work/county.txt" || { echo "FAIL: the printout lacks $expected" >&2; exit 1; }
done
pdftoppm -png -r 70 -f 1 -l 1 "$pdf" "$work/guide"
pdftoppm -png -r 110 -f 2 -l 2 -x 0 -y 0 -W 1820 -H 330 "$pdf" "$work/list"
cp "$work"/guide-*1.png docs/county-workbook-1.png
cp "$work"/list-*2.png docs/county-workbook-2.png
echo "OK: $pages landscape pages; 说明 in docs/county-workbook-1.png, a list in -2.png"

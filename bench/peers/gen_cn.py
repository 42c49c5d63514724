"""Synthetic Chinese population for the record-linkage scale benchmark.

Writes, under --out (default data/cn_<N>/):
  A.csv            N persons: unique_id,name,id_number,birth_date,gender,county
  B.csv            ~0.8N noisy copies of A persons + 0.2N new persons (|B| = N), shuffled
  truth_pairs.csv  a_unique_id,b_unique_id for every B row that is a copy of an A row
  manifest.json    parameters, counts of each kind of noise, generation time

Person attributes
  name        faker zh_CN last_name() + first_name_male()/first_name_female() matching the
              gender (faker's zh_CN name_male()/name_female() ignore gender)
  id_number   faker zh_CN ssn(): area code + YYYYMMDD + 3-digit sequence (odd = male) +
              GB 11643-1999 check digit; every ID is re-verified here with our own checksum
              and IDs are unique within the population
  birth_date  YYYY-MM-DD, taken from the ID (always consistent with it)
  gender      男 / 女, consistent with the ID's 17th digit
  county      county name (../data/counties.csv) of the ID's area code for 90% of persons,
              a random other county for 10% (people who moved since registration)

Noise in B (disjoint row sets for the two ID faults; name noise independent of them)
  5% of B rows: one character of id_number replaced by a different one (check digit then
                normally fails; no attempt is made to keep it valid)
  2% of B rows: id_number blank (empty field)
  3% of B rows: one character of the name replaced by a different character drawn from
                faker's zh_CN name-character pool
  everything else is copied exactly.

Usage:  .venv/bin/python gen_cn.py --n 100000 [--seed 1] [--out data/cn_100000]
"""

from __future__ import annotations

import argparse
import csv
import datetime as _dt
import json
import os
import random
import time
from pathlib import Path

import numpy as np
import pandas as pd
from faker import Faker
import faker.providers.ssn.zh_CN as ssn_zh

HERE = Path(__file__).resolve().parent
COUNTIES_CSV = HERE.parent.parent / "data" / "counties.csv"

# faker's ssn() measures ages from date.today(); pin "today" so that a given seed always
# produces byte-identical files.
REF_DATE = _dt.date(2026, 1, 1)


class _FixedDate(_dt.date):
    @classmethod
    def today(cls):
        return REF_DATE


class _DatetimeShim:
    date = _FixedDate
    timedelta = _dt.timedelta


ssn_zh.datetime = _DatetimeShim  # the provider module does `import datetime`

GB11643_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GB11643_CHECK = "10X98765432"


def gb11643_check_digit(body17: str) -> str:
    s = sum(int(c) * w for c, w in zip(body17, GB11643_WEIGHTS))
    return GB11643_CHECK[s % 11]


def id_is_valid(idn: str) -> bool:
    return (
        len(idn) == 18
        and idn[:17].isdigit()
        and gb11643_check_digit(idn[:17]) == idn[17]
    )


def load_counties(faker_codes: set[str]) -> dict[str, str]:
    out = {}
    with open(COUNTIES_CSV, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            code = row["code"]
            if code[4] == "7":  # development zones never appear in IDs
                continue
            if code in faker_codes:
                out[code] = row["name"]
    return out


def make_people(fake: Faker, rng: random.Random, n: int, code_list, code_to_county,
                county_names, used_ids: set, start_pid: int):
    rows = []
    ssn = fake.ssn
    last = fake.last_name
    first = {"M": fake.first_name_male, "F": fake.first_name_female}
    for k in range(n):
        gender = "M" if rng.random() < 0.5 else "F"
        code = code_list[rng.randrange(len(code_list))]
        while True:
            idn = ssn(min_age=0, max_age=95, gender=gender, area_code=code)
            if idn not in used_ids:
                break
        used_ids.add(idn)
        if not id_is_valid(idn):
            raise RuntimeError(f"faker produced an ID with a bad check digit: {idn}")
        if rng.random() < 0.9:
            county = code_to_county[code]
        else:
            county = county_names[rng.randrange(len(county_names))]
        bd = f"{idn[6:10]}-{idn[10:12]}-{idn[12:14]}"
        sex = "男" if int(idn[16]) % 2 == 1 else "女"
        rows.append((start_pid + k, last() + first[gender](), idn, bd, sex, county))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None)
    ap.add_argument("--overlap", type=float, default=0.8)
    ap.add_argument("--p-id-typo", type=float, default=0.05)
    ap.add_argument("--p-id-blank", type=float, default=0.02)
    ap.add_argument("--p-name-typo", type=float, default=0.03)
    args = ap.parse_args()
    n = args.n
    out = Path(args.out or HERE / "data" / f"cn_{n}")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()

    fake = Faker("zh_CN")
    fake.seed_instance(args.seed)
    rng = random.Random(args.seed)
    np_rng = np.random.default_rng(args.seed)

    faker_codes = set(ssn_zh.Provider.area_codes)
    code_to_county = load_counties(faker_codes)
    code_list = sorted(code_to_county)
    county_names = sorted(set(code_to_county.values()))

    cols = ["person_id", "name", "id_number", "birth_date", "gender", "county"]
    used: set[str] = set()
    a = pd.DataFrame(make_people(fake, rng, n, code_list, code_to_county, county_names, used, 0),
                     columns=cols)
    n_copy = int(round(args.overlap * n))
    n_new = n - n_copy
    new = pd.DataFrame(make_people(fake, rng, n_new, code_list, code_to_county, county_names,
                                   used, n), columns=cols)
    t_people = time.perf_counter() - t0

    # B = copies of a random 80% of A + new persons, shuffled
    copy_idx = np_rng.choice(n, size=n_copy, replace=False)
    b = pd.concat([a.iloc[copy_idx], new], ignore_index=True)
    b = b.iloc[np_rng.permutation(len(b))].reset_index(drop=True)
    nb = len(b)

    # ID faults: disjoint row sets
    fault_rows = np_rng.permutation(nb)
    n_typo = int(round(args.p_id_typo * nb))
    n_blank = int(round(args.p_id_blank * nb))
    typo_rows = fault_rows[:n_typo]
    blank_rows = fault_rows[n_typo:n_typo + n_blank]
    ids = b["id_number"].to_numpy(dtype=object).copy()
    for r in typo_rows:
        s = ids[r]
        pos = rng.randrange(18)
        alphabet = "0123456789X" if pos == 17 else "0123456789"
        ch = s[pos]
        while ch == s[pos]:
            ch = alphabet[rng.randrange(len(alphabet))]
        ids[r] = s[:pos] + ch + s[pos + 1:]
    for r in blank_rows:
        ids[r] = ""
    b["id_number"] = ids

    # name faults
    from faker.providers.person.zh_CN import Provider as PersonZh
    pool = sorted({c for nm in list(PersonZh.last_names) + list(PersonZh.first_names)
                   for c in nm})
    n_name = int(round(args.p_name_typo * nb))
    name_rows = np_rng.choice(nb, size=n_name, replace=False)
    names = b["name"].to_numpy(dtype=object).copy()
    for r in name_rows:
        s = names[r]
        pos = rng.randrange(len(s))
        ch = s[pos]
        while ch == s[pos]:
            ch = pool[rng.randrange(len(pool))]
        names[r] = s[:pos] + ch + s[pos + 1:]
    b["name"] = names

    # unique ids; truth kept apart from the files the linker reads
    a.insert(0, "unique_id", np.arange(n))
    b.insert(0, "unique_id", np.arange(nb))
    truth = a[["unique_id", "person_id"]].merge(
        b[["unique_id", "person_id"]], on="person_id", suffixes=("_a", "_b"))
    truth = truth.rename(columns={"unique_id_a": "a_unique_id", "unique_id_b": "b_unique_id"})

    public = ["unique_id", "name", "id_number", "birth_date", "gender", "county"]
    a[public].to_csv(out / "A.csv", index=False, encoding="utf-8")
    b[public].to_csv(out / "B.csv", index=False, encoding="utf-8")
    truth[["a_unique_id", "b_unique_id"]].to_csv(out / "truth_pairs.csv", index=False)

    # self-checks
    assert all(id_is_valid(x) for x in a["id_number"])
    assert a["id_number"].is_unique
    n_valid_b = sum(id_is_valid(x) for x in b["id_number"] if x)
    manifest = {
        "n_a": n, "n_b": nb, "n_true_pairs": len(truth), "n_new_in_b": n_new,
        "seed": args.seed, "ref_date": REF_DATE.isoformat(),
        "id_typo_rows": n_typo, "id_blank_rows": n_blank, "name_typo_rows": n_name,
        "b_ids_with_valid_check_digit": n_valid_b,
        "distinct_names_a": int(a["name"].nunique()),
        "distinct_counties_a": int(a["county"].nunique()),
        "seconds_people": round(t_people, 2),
        "seconds_total": round(time.perf_counter() - t0, 2),
        "faker_version": __import__("faker").VERSION,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False))
    print(json.dumps(manifest, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""recon's national run as an Apache Spark job (`recon national` submits it).

Spark places the tasks, shuffles, retries and collects; recon does each province's work:

1. Shards: each province is run alone (`recon run --parquet`), for its rows' person keys,
   household keys and blocking keys (links.parquet, keys.parquet) and its trained model.
2. Joins (Spark SQL): for each province, the other provinces' rows that may touch its persons:
   every row of its persons and households, every row sharing a blocking key with those, and
   every row of the persons of those. Then the nation's persons, counted as the linker counts
   them, and the national model: the largest shard's, with that population.
3. Partitions: each province is run again (`recon run --evidence ... --evidence-rows`) with the
   rows brought to it as evidence and the national model, into OUT/provinces/<province>, its
   ledger committed only when its outputs are complete.

A task that fails for a reason that may pass (a lost worker, a crash) raises, and Spark runs it
again; a run refused for its inputs (exit 2) or locked (3) fails the job with the province's
message. Nothing here reads a cell: the job sees keys, counts and recon's exit codes.
"""

import argparse
import functools
import glob
import json
import os
import subprocess
import sys
import time

from pyspark import StorageLevel
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

# Anchored rows: placed by an ID of their own (or one read from their certificate, student
# number or as their household's head); every other row is a person of its own until linked.
ANCHORED = ["id", "certificate", "student_number", "household_head"]
# Exit codes a province's run may end with and the job go on (0 done, 5 an input missing
# against its ledger: its gaps in that scope withheld).
DONE = {0: "done", 5: "done, an input missing against the ledger"}
RETRIED = {1}


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recon", required=True, help="the recon binary, on every worker")
    parser.add_argument("--out", required=True, help="the national output folder")
    parser.add_argument("--config")
    parser.add_argument("--as-of")
    parser.add_argument("--ledgers", help="folder of the provinces' ledgers (<province>.sqlite)")
    parser.add_argument("provinces", nargs="+", help="one folder of exports per province")
    return parser.parse_args()


def recon(args, run, out, log):
    """Runs `recon run` with `run`'s arguments into `out`; its exit code and seconds."""
    command = [args.recon, "run", "--quiet", "--log-format", "json", "--out", out] + run
    command += ["--config", args.config] if args.config else []
    command += ["--as-of", args.as_of] if args.as_of else []
    started = time.time()
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as log_file:
        code = subprocess.call(command, stdout=log_file, stderr=subprocess.STDOUT)
    if code in RETRIED or code < 0:
        # A crash or a kill: another attempt (Spark's) may pass.
        raise RuntimeError(f"recon run ended with {code} ({log})")
    return code, round(time.time() - started, 1)


def stage(spark, count, task):
    """`task(i)` for each province, one Spark task each."""
    return spark.sparkContext.parallelize(range(count), count).map(task).collect()


def check(results, names, what):
    """Ends the job, with the first failed run's exit code (2 its inputs, 3 locked), when a
    province's run failed."""
    failed = [(n, code) for n, (code, _) in zip(names, results) if code not in DONE]
    if failed:
        listed = ", ".join(f"{n} (exit {code})" for n, code in failed)
        print(f"recon national: the {what} of {listed} failed; see logs/ in the output folder",
              file=sys.stderr)
        sys.exit(failed[0][1])


def across(table, column):
    """The rows of `table` whose `column` is found in more than one province."""
    shared = (
        table.groupBy(column).agg(F.countDistinct("province").alias("provinces"))
        .where(F.col("provinces") > 1).select(column)
    )
    return table.join(F.broadcast(shared), column)


def rows_brought(links, keys):
    """(partition, source_file, source_row) of the other provinces' rows each province needs:
    the rows of its persons and households, the rows sharing a blocking key with its rows or
    those, and every row of the persons of these. Only a person, household or key found in two
    provinces brings a row across, so the large joins are of those few against all."""
    at = ["source_file", "source_row"]
    rows = links.where(F.col("person_key").isNotNull()).select(
        "province", *at, "person_key", "household_key"
    )
    partition = F.col("province").alias("partition")
    reached = None
    for column in ["person_key", "household_key"]:
        shared = across(rows.where(F.col(column).isNotNull()), column)
        of_partition = shared.select(partition, column).distinct()
        found = shared.join(of_partition, column).select("partition", *at)
        reached = found if reached is None else reached.union(found)
    reached = reached.distinct().cache()
    keys = keys.select("province", *at, "key")
    # A province's own rows bring only keys found elsewhere too; the rows reached, every key.
    partition_keys = across(keys, "key").select(partition, "key").union(
        keys.join(F.broadcast(reached), at).select("partition", "key")
    ).distinct()
    blocked = keys.join(F.broadcast(partition_keys), "key").select("partition", *at).cache()
    their_persons = (
        rows.select(*at, "person_key").join(F.broadcast(blocked.union(reached)), at)
        .select("partition", "person_key").distinct()
    )
    theirs = rows.join(F.broadcast(their_persons), "person_key").select("partition", *at)
    brought = reached.union(blocked).union(theirs).distinct()
    return brought.join(rows.select("province", *at), at).where(
        F.col("province") != F.col("partition")
    ).select("partition", *at)


def population(links):
    """The nation's persons as the linker counts them: by their IDs alone, and once linked."""
    anchored = F.col("evidence").isin(ANCHORED)
    counted = links.where(F.col("person_key").isNotNull()).agg(
        F.countDistinct(F.when(anchored, F.col("person_key"))).alias("anchored"),
        F.coalesce(F.sum(F.when(anchored, 0).otherwise(1)), F.lit(0)).alias("alone"),
        F.countDistinct("person_key").alias("linked"),
    ).first()
    return {"by_id": counted["anchored"] + counted["alone"], "linked": counted["linked"]}


def main():
    args = arguments()
    args.recon = os.path.abspath(args.recon)
    folders = [os.path.abspath(p) for p in args.provinces]
    names = [os.path.basename(p.rstrip("/")) for p in folders]
    if len(set(names)) != len(names):
        sys.exit("recon national: two province folders have the same name")
    out = os.path.abspath(args.out)
    spark = SparkSession.builder.appName("recon national").getOrCreate()
    count = len(folders)
    if not spark.sparkContext.getConf().contains("spark.sql.shuffle.partitions"):
        # Spark's default of 200 is for clusters; the joins' tables are a few columns a row.
        spark.conf.set("spark.sql.shuffle.partitions", str(4 * count))

    def shard(i):
        shard_out = os.path.join(out, "shards", names[i])
        log = os.path.join(out, "logs", f"shard_{names[i]}.jsonl")
        return recon(args, [folders[i], "--parquet"], shard_out, log)

    started = time.time()
    shards = stage(spark, count, shard)
    check(shards, names, "shard run")
    timings = {"shards": round(time.time() - started, 1)}

    started = time.time()
    def read(table):
        shards = [
            spark.read.parquet(os.path.join(out, "shards", n, table)).withColumn("province", F.lit(n))
            for n in names
        ]
        return functools.reduce(lambda a, b: a.unionByName(b), shards)

    links = read("links.parquet").cache()
    keys = read("keys.parquet").persist(StorageLevel.MEMORY_AND_DISK)
    clashes = (
        links.select("province", "source_file").distinct().groupBy("source_file").count()
        .where(F.col("count") > 1).limit(1).collect()
    )
    if clashes:
        sys.exit(
            "recon national: two provinces have a file of the same name; a row is known by its "
            "file's name across provinces, so rename one (its province in the name)"
        )
    brought = rows_brought(links, keys)
    brought.write.mode("overwrite").partitionBy("partition").option("header", True).csv(
        os.path.join(out, "brought")
    )
    counted = population(links)
    largest = max(range(count), key=lambda i: os.path.getsize(
        os.path.join(out, "shards", names[i], "links.parquet")))
    with open(os.path.join(out, "shards", names[largest], "model.json")) as f:
        model = json.load(f)
    model["population"] = counted
    national_model = os.path.join(out, "model.json")
    with open(national_model, "w") as f:
        json.dump(model, f, indent=2)
    timings["joins"] = round(time.time() - started, 1)

    def partition(i):
        parts = sorted(glob.glob(os.path.join(out, "brought", f"partition={names[i]}", "*.csv")))
        rows_file = os.path.join(out, "brought", f"{names[i]}.csv")
        with open(rows_file, "w") as merged:
            merged.write("source_file,source_row\n")
            for part in parts:
                with open(part) as lines:
                    merged.writelines(lines.readlines()[1:])
        run = [folders[i], "--model", national_model, "--evidence-rows", rows_file]
        for j in range(count):
            run += ["--evidence", folders[j]] if j != i else []
        if args.ledgers:
            run += ["--ledger", os.path.join(os.path.abspath(args.ledgers), f"{names[i]}.sqlite")]
        province_out = os.path.join(out, "provinces", names[i])
        log = os.path.join(out, "logs", f"province_{names[i]}.jsonl")
        return recon(args, run, province_out, log)

    started = time.time()
    provinces = stage(spark, count, partition)
    check(provinces, names, "province run")
    timings["provinces"] = round(time.time() - started, 1)
    summary = {
        "provinces": [
            {"province": n, "shard_seconds": s[1], "province_seconds": p[1], "status": DONE[p[0]]}
            for n, s, p in zip(names, shards, provinces)
        ],
        "population": counted,
        "model_from": names[largest],
        "seconds": timings,
    }
    with open(os.path.join(out, "national.json"), "w") as f:
        json.dump(summary, f, ensure_ascii=False, indent=2)
    spark.stop()


if __name__ == "__main__":
    main()

"""polars peer of Cauce's etl (bench/config/pipeline.yaml): read the CSV with
declared types, drop rows whose target is null, drop exact duplicates, seeded
80/20 split, write train/test Parquet (zstd). Prints row counts as JSON.

With --transform REFERENCE.csv it also does bench/config/pipeline_transform.yaml's
SQL transform before de-duplicating: a left lookup of cat_a in the reference
table (adding `tone`), two derived columns (`x0_weighted`, `x12`) and the
filter `x3 IS NULL OR x3 > 25` (the rows it leaves out are `filtered`).

usage: etl_polars.py INPUT.csv OUTPUT_DIR [--transform REFERENCE.csv]
"""

import json
import os
import sys

import numpy as np
import polars as pl

SCHEMA = {"id": pl.Int64, "cat_a": pl.String, "cat_b": pl.String, "target": pl.Int64}
SCHEMA.update({f"x{j}": pl.Float64 for j in range(8)})


def lookup(df, reference):
    colours = pl.read_csv(reference, schema_overrides={"weight": pl.Float64})
    try:
        joined = df.join(colours, on="cat_a", how="left", maintain_order="left")
    except TypeError:  # polars < 1.19 keeps the left order without being asked
        joined = df.join(colours, on="cat_a", how="left")
    return joined


def transform(df, reference):
    df = lookup(df, reference).with_columns(
        x0_weighted=pl.col("weight") * pl.col("x0"),
        x12=pl.col("x1") - pl.col("x2"),
    ).drop("weight")
    return df.filter(pl.col("x3").is_null() | (pl.col("x3") > 25))


def main(source, out, *options):
    df = pl.read_csv(source, schema_overrides=SCHEMA)
    rows_in = df.height
    df = df.filter(pl.col("target").is_not_null())
    null_target = rows_in - df.height
    filtered = 0
    if options[:1] == ("--transform",):
        before = df.height
        df = transform(df, options[1])
        filtered = before - df.height
    before = df.height
    df = df.unique(maintain_order=True)
    duplicates = before - df.height
    test = pl.Series(np.random.default_rng(42).random(df.height) < 0.2)
    os.makedirs(out, exist_ok=True)
    df.filter(~test).write_parquet(f"{out}/train.parquet", compression="zstd")
    df.filter(test).write_parquet(f"{out}/test.parquet", compression="zstd")
    print(json.dumps({"input": rows_in, "null_target": null_target, "filtered": filtered,
                      "duplicates": duplicates, "train": int((~test).sum()),
                      "test": int(test.sum())}))


if __name__ == "__main__":
    main(*sys.argv[1:])

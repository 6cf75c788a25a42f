"""polars peer of Cauce's etl (bench/config/pipeline.yaml): read the CSV with
declared types, drop rows whose target is null, drop exact duplicates, seeded
80/20 split, write train/test Parquet (zstd). Prints row counts as JSON.

usage: etl_polars.py INPUT.csv OUTPUT_DIR
"""

import json
import os
import sys

import numpy as np
import polars as pl

SCHEMA = {"id": pl.Int64, "cat_a": pl.String, "cat_b": pl.String, "target": pl.Int64}
SCHEMA.update({f"x{j}": pl.Float64 for j in range(8)})


def main(source, out):
    df = pl.read_csv(source, schema_overrides=SCHEMA)
    rows_in = df.height
    df = df.filter(pl.col("target").is_not_null())
    null_target = rows_in - df.height
    df = df.unique(maintain_order=True)
    duplicates = rows_in - null_target - df.height
    test = pl.Series(np.random.default_rng(42).random(df.height) < 0.2)
    os.makedirs(out, exist_ok=True)
    df.filter(~test).write_parquet(f"{out}/train.parquet", compression="zstd")
    df.filter(test).write_parquet(f"{out}/test.parquet", compression="zstd")
    print(json.dumps({"input": rows_in, "null_target": null_target, "duplicates": duplicates,
                      "train": int((~test).sum()), "test": int(test.sum())}))


if __name__ == "__main__":
    main(*sys.argv[1:3])

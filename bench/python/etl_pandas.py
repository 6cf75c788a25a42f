"""pandas peer of Cauce's etl (bench/config/pipeline.yaml): read the CSV with
declared types, drop rows whose target is null, drop exact duplicates, seeded
80/20 split, write train/test Parquet (zstd). Prints row counts as JSON.

usage: etl_pandas.py INPUT.csv OUTPUT_DIR
"""

import json
import os
import sys

import numpy as np
import pandas as pd

DTYPES = {"id": "int64", "cat_a": "string", "cat_b": "string", "target": "Int64"}
DTYPES.update({f"x{j}": "float64" for j in range(8)})


def main(source, out):
    df = pd.read_csv(source, dtype=DTYPES)
    rows_in = len(df)
    df = df[df["target"].notna()]
    null_target = rows_in - len(df)
    df = df.drop_duplicates()
    duplicates = rows_in - null_target - len(df)
    test = np.random.default_rng(42).random(len(df)) < 0.2
    os.makedirs(out, exist_ok=True)
    df[~test].to_parquet(f"{out}/train.parquet", compression="zstd", index=False)
    df[test].to_parquet(f"{out}/test.parquet", compression="zstd", index=False)
    print(json.dumps({"input": rows_in, "null_target": null_target, "duplicates": duplicates,
                      "train": int((~test).sum()), "test": int(test.sum())}))


if __name__ == "__main__":
    main(*sys.argv[1:3])

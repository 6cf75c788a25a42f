"""Cauce's Python package on the inference workload: load the model file
with `cauce`, stream the Parquet input's batches with pyarrow into
Model.predict (scored while the next are read, as the binary does), write
the result (the columns the inference binary writes) as Parquet (zstd).
Prints the row count as JSON.

usage: predict_cauce.py MODEL.bin INPUT.parquet OUTPUT.parquet
"""

import json
import sys

import pyarrow as pa
import pyarrow.parquet as pq

import cauce


def main(model_path, source, out):
    model = cauce.load(model_path)
    parquet = pq.ParquetFile(source)
    batches = pa.RecordBatchReader.from_batches(parquet.schema_arrow, parquet.iter_batches())
    scored = model.predict(batches, passthrough=["id"])
    pq.write_table(scored, out, compression="zstd")
    print(json.dumps({"rows": scored.num_rows, "scored": scored.column("_error").null_count}))


if __name__ == "__main__":
    main(*sys.argv[1:4])

"""ONNX Runtime on a model exported by `model-registry export`: read the
Parquet input with pyarrow, feed each of the graph's inputs (numbers as
double with NaN for missing, text as string with "" for missing), run it,
write id, prediction and the class probabilities as Parquet (zstd). Prints
the row count as JSON.

usage: predict_onnx.py MODEL.onnx INPUT.parquet OUTPUT.parquet
"""

import json
import sys

import numpy as np
import onnxruntime as ort
import pyarrow as pa
import pyarrow.parquet as pq


def main(model_path, source, out):
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    table = pq.read_table(source)
    feeds = {}
    for spec in session.get_inputs():
        column = table.column(spec.name)
        if spec.type == "tensor(double)":
            values = column.cast(pa.float64()).to_numpy(zero_copy_only=False)
        else:
            values = np.array(column.fill_null("").to_pylist(), dtype=object)
        feeds[spec.name] = values.reshape(-1, 1)
    names = [o.name for o in session.get_outputs()]
    results = dict(zip(names, session.run(None, feeds)))
    columns = {"id": table.column("id"), "prediction": pa.array(results["prediction"])}
    if "probabilities" in results:
        for k in range(results["probabilities"].shape[1]):
            columns[f"proba_{k}"] = pa.array(results["probabilities"][:, k])
    pq.write_table(pa.table(columns), out, compression="zstd")
    print(json.dumps({"rows": table.num_rows}))


if __name__ == "__main__":
    main(*sys.argv[1:4])

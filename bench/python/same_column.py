"""Exits 0 when COLUMN is the same in two Parquet outputs, row for row (a
value or its text: a class written as the number 1 by Cauce is '1' in an
ONNX model's string labels); a folder is a run's output, read through its
_manifest.json. Otherwise it prints the first difference and exits 1.

usage: same_column.py COLUMN A B
"""

import json
import pathlib
import sys

import pyarrow.parquet as pq


def column(path, name):
    path = pathlib.Path(path)
    if path.is_dir():
        manifest = json.loads((path / "_manifest.json").read_text())
        return sum((pq.read_table(path / p["path"]).column(name).to_pylist()
                    for p in manifest["outputs"]), [])
    return pq.read_table(path).column(name).to_pylist()


def main(name, a, b):
    left, right = column(a, name), column(b, name)
    if len(left) != len(right):
        sys.exit(f"{name}: {len(left)} rows in {a}, {len(right)} in {b}")
    for i, (x, y) in enumerate(zip(left, right)):
        if x != y and str(x).lower() != str(y).lower():
            sys.exit(f"{name}: row {i}: {x!r} in {a}, {y!r} in {b}")


if __name__ == "__main__":
    main(*sys.argv[1:4])

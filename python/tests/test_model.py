"""Model.predict equals the inference binary row for row, on the demo
model and on a raw file with bad rows, from pyarrow, pandas and polars."""

import json
import subprocess

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import cauce
from conftest import PIPELINE, binary


def run_inference(demo, raw, out):
    """The inference binary on `raw` (the promoted model): its predictions."""
    done = subprocess.run(
        [
            str(binary("inference")),
            "--config", str(PIPELINE),
            "--input", str(raw),
            "--output", str(out),
            "--registry", str(demo["models"]),
            "--json",
        ],
        cwd=demo["root"], capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads(done.stdout)
    parts = [pq.read_table(out / p["path"]) for p in manifest["outputs"]]
    return pa.concat_tables(parts), manifest


def strings(path):
    """A CSV read with every column as text, as a raw file is."""
    names = path.read_text().splitlines()[0].split(",")
    options = pacsv.ConvertOptions(column_types={n: pa.string() for n in names})
    return pacsv.read_csv(path, convert_options=options)


def same(python, binary_table, columns):
    for column in columns:
        assert python.column(column).to_pylist() == binary_table.column(column).to_pylist(), column


def test_predictions_equal_the_binary_on_the_demo_model(demo):
    expected, manifest = run_inference(demo, demo["raw"] / "penguins.csv", demo["root"] / "out-demo")
    model = cauce.Registry(str(demo["models"])).load("latest")
    assert model.version == manifest["model"]["version"]
    got = model.predict(strings(demo["raw"] / "penguins.csv"))
    assert got.num_rows == expected.num_rows
    probabilities = [f"proba_{c}" for c in model.classes]
    same(got, expected, ["prediction", "model_version", *probabilities])
    assert got.column("_error").null_count == got.num_rows


def test_a_raw_file_with_bad_rows_gets_the_binary_errors(demo, tmp_path):
    lines = (demo["raw"] / "penguins.csv").read_text().splitlines()
    header = lines[0].split(",")
    bad = lines[1].split(",")
    bad[header.index("bill_length_mm")] = "not-a-number"
    raw = tmp_path / "bad.csv"
    raw.write_text("\n".join([lines[0], lines[1], ",".join(bad), *lines[2:20]]) + "\n")
    expected, _ = run_inference(demo, raw, demo["root"] / "out-bad")
    got = cauce.Registry(str(demo["models"])).load().predict(strings(raw))
    same(got, expected, ["prediction"])
    errors = got.column("_error").to_pylist()
    binary_errors = expected.column("_error").to_pylist()
    assert [e is None for e in errors] == [e is None for e in binary_errors]
    assert errors[1] is not None and "not-a-number" in errors[1]
    # The binary names the file's line, Python the table's row.
    assert errors[1].split(": ", 1)[1] == binary_errors[1].split(": ", 1)[1]


def test_pandas_polars_and_pyarrow_tables_give_the_same_predictions(demo):
    model = cauce.load(str(demo["models"]))
    table = pacsv.read_csv(demo["raw"] / "penguins.csv")
    from_arrow = model.predict(table)
    from_pandas = model.predict(table.to_pandas())
    from_polars = model.predict(pl.from_arrow(table))
    assert isinstance(from_pandas, pd.DataFrame)
    assert isinstance(from_polars, pl.DataFrame)
    assert from_pandas["prediction"].tolist() == from_arrow.column("prediction").to_pylist()
    assert from_polars["prediction"].to_list() == from_arrow.column("prediction").to_pylist()
    assert from_arrow.column("_error").null_count == table.num_rows


def test_predict_proba_and_passthrough(demo):
    model = cauce.load(str(demo["models"]))
    table = pacsv.read_csv(demo["raw"] / "penguins.csv")
    proba = model.predict_proba(table)
    assert proba.column_names == [f"proba_{c}" for c in model.classes] + ["_error"]
    for row in zip(*[proba.column(f"proba_{c}").to_pylist() for c in model.classes]):
        assert abs(sum(row) - 1.0) < 1e-9
    kept = model.predict(table, passthrough=["year"])
    assert kept.column_names[0] == "year"
    assert kept.column("year").to_pylist() == table.column("year").to_pylist()


def test_the_model_describes_itself(demo):
    model = cauce.load(str(demo["models"]))
    assert model.task == "classification"
    assert model.classes == ["Adelie", "Chinstrap", "Gentoo"]
    assert f"v{model.card['version']}" == model.version
    assert "bill_ratio" in model.inputs
    importances = model.feature_importances
    assert importances and abs(sum(importances.values()) - 1.0) < 1e-6
    assert list(importances.values()) == sorted(importances.values(), reverse=True)
    assert "penguins-species" in repr(model)


def test_a_missing_column_raises_with_the_column_named(demo):
    model = cauce.load(str(demo["models"]))
    table = pacsv.read_csv(demo["raw"] / "penguins.csv").drop_columns(["island"])
    with pytest.raises(cauce.InferenceError, match="'island'"):
        model.predict(table)


def test_an_empty_table_gives_no_rows(demo):
    model = cauce.load(str(demo["models"]))
    table = pacsv.read_csv(demo["raw"] / "penguins.csv").slice(0, 0)
    got = model.predict(table)
    assert got.num_rows == 0
    assert "prediction" in got.column_names


def test_a_stream_of_batches_is_scored_in_order(demo):
    model = cauce.load(str(demo["models"]))
    table = pacsv.read_csv(demo["raw"] / "penguins.csv")
    batches = table.to_batches(max_chunksize=50)
    reader = pa.RecordBatchReader.from_batches(table.schema, iter(batches))
    streamed = model.predict(reader)
    assert streamed.column("prediction").to_pylist() == model.predict(table).column("prediction").to_pylist()

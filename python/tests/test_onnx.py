"""ONNX export: for every exportable estimator, trained on the demo data,
ONNX Runtime's predictions on etl's test split equal Cauce's (classes
exactly; probabilities and values within 1e-6 absolute + 1e-6 relative),
rows with missing values and an unseen category included; the model passes
onnx.checker."""

import math
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cauce
from conftest import PIPELINE, binary

NUMERIC = ["bill_length_mm", "bill_depth_mm", "bill_ratio", "flipper_length_mm"]
CATEGORICAL = ["island", "sex"]
EXPORTED = {
    "classification": ["logistic_regression", "decision_tree", "random_forest", "extra_trees",
                       "gradient_boosting", "gaussian_nb", "knn", "svm"],
    # Two classes: one score through a sigmoid (logistic, boosting).
    "binary": ["logistic_regression", "random_forest", "gradient_boosting", "svm"],
    "regression": ["linear_regression", "ridge", "lasso", "elastic_net", "decision_tree",
                   "random_forest", "extra_trees", "gradient_boosting", "knn", "svm"],
}


TARGETS = {"classification": "species", "binary": "sex", "regression": "body_mass_g"}


def train(demo, tmp_path, algorithm, task):
    target = TARGETS[task]
    categorical = [c for c in CATEGORICAL if c != target]
    config = tmp_path / f"{algorithm}-{task}.yaml"
    config.write_text(f"""
model:
  name: onnx-{algorithm}-{task}
  task: {"regression" if task == "regression" else "classification"}
  target: {target}
  features:
    numeric: {NUMERIC}
    categorical: {categorical}
  algorithm: {algorithm}
  seed: 7
registry:
  promote: always
""")
    registry = tmp_path / f"models-{algorithm}-{task}"
    cauce.train(str(config), pipeline_config=str(PIPELINE), registry=str(registry))
    return cauce.Registry(str(registry)).load("latest", transform=False)


def split_rows(demo):
    """etl's test split, with a missing number, a missing category and an
    unseen category put into its first rows."""
    manifest = demo["etl"]
    parts = [pq.read_table(demo["processed"] / p["path"]) for p in manifest["outputs"]["test"]]
    table = pa.concat_tables(parts)
    columns = {name: table.column(name).to_pylist() for name in NUMERIC + CATEGORICAL}
    columns["bill_length_mm"][0] = None
    columns["sex"][1] = None
    columns["island"][2] = "Atlantis"
    types = {name: pa.float64() for name in NUMERIC} | {name: pa.string() for name in CATEGORICAL}
    return pa.table({name: pa.array(values, types[name]) for name, values in columns.items()})


def feeds(table, inputs):
    out = {}
    for name in NUMERIC:
        values = [math.nan if v is None else v for v in table.column(name).to_pylist()]
        out[name] = np.array(values, dtype=np.float64).reshape(-1, 1)
    for name in CATEGORICAL:
        values = ["" if v is None else v for v in table.column(name).to_pylist()]
        out[name] = np.array(values, dtype=object).reshape(-1, 1)
    return {name: value for name, value in out.items() if name in inputs}


def close(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert np.all(np.abs(ours - theirs) <= 1e-6 + 1e-6 * np.abs(ours)), np.max(np.abs(ours - theirs))


@pytest.mark.parametrize("task,algorithm", [(t, a) for t, algs in EXPORTED.items() for a in algs])
def test_onnx_runtime_predicts_as_cauce(demo, tmp_path, task, algorithm):
    model = train(demo, tmp_path, algorithm, task)
    exported = model.to_onnx(str(tmp_path / "model.onnx"))
    onnx.checker.check_model(onnx.load_from_string(exported), full_check=True)
    table = split_rows(demo)
    ours = model.predict(table)
    session = ort.InferenceSession(exported, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    results = dict(zip(names, session.run(None, feeds(table, model.inputs))))
    if task != "regression":
        assert [str(v) for v in results["prediction"]] == ours.column("prediction").to_pylist()
        if "probabilities" in results:
            for k, label in enumerate(model.classes):
                close(ours.column(f"proba_{label}").to_pylist(), results["probabilities"][:, k])
        else:
            assert algorithm == "svm" and f"proba_{model.classes[0]}" not in ours.column_names
    else:
        close(ours.column("prediction").to_pylist(), results["prediction"])


def test_the_cli_writes_the_same_model(demo, tmp_path):
    out = tmp_path / "latest.onnx"
    done = subprocess.run(
        [str(binary("model-registry")), "--registry", str(demo["models"]), "export", "latest",
         "--output", str(out)], capture_output=True, text=True, cwd=demo["root"])
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == cauce.load(str(demo["models"])).to_onnx()

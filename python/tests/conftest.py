"""Shared fixtures: the demo pipeline (etl, then a trained and promoted
random forest) run once in a temporary folder through the package, and
the Cauce binaries to compare against (target/debug, or CAUCE_BIN_DIR)."""

import os
import pathlib
import shutil

import pytest

import cauce

ROOT = pathlib.Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "config" / "pipeline_config.yaml"
MODEL = ROOT / "config" / "model_config.yaml"
PENGUINS = ROOT / "data" / "raw" / "penguins.csv"


def binary(name: str) -> pathlib.Path:
    """A Cauce binary; a missing one fails the test (never a skip)."""
    path = pathlib.Path(os.environ.get("CAUCE_BIN_DIR", ROOT / "target" / "debug")) / name
    assert path.exists(), f"{path} is missing: build the workspace first (cargo build)"
    return path


@pytest.fixture(scope="session")
def demo(tmp_path_factory):
    """The demo pipeline's folders after etl and a promoted model."""
    root = tmp_path_factory.mktemp("demo")
    folders = {
        "CAUCE_RAW": root / "raw",
        "CAUCE_PROCESSED": root / "processed",
        "CAUCE_MODELS": root / "models",
        "CAUCE_PREDICTIONS": root / "predictions",
    }
    for name, folder in folders.items():
        os.environ[name] = str(folder)
    shutil.copytree(ROOT / "data" / "raw", folders["CAUCE_RAW"])
    manifest = cauce.etl(str(PIPELINE), input=str(folders["CAUCE_RAW"] / "penguins.csv"))
    report = cauce.train(str(MODEL), pipeline_config=str(PIPELINE), promote=True)
    return {
        "root": root,
        "raw": folders["CAUCE_RAW"],
        "processed": folders["CAUCE_PROCESSED"],
        "models": folders["CAUCE_MODELS"],
        "predictions": folders["CAUCE_PREDICTIONS"],
        "etl": manifest,
        "train": report,
    }

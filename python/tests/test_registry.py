"""The registry from Python: versions, cards, promotion and rollback as
model-registry does them, a registry on the S3 test server, and errors
with the binaries' messages."""

import os
import shutil
import subprocess
import uuid

import pyarrow.csv as pacsv
import pytest

import cauce
from conftest import MODEL, PIPELINE, binary


def cli_error(name, *args, cwd):
    """The one line a binary prints after `NAME: error: `."""
    done = subprocess.run([str(binary(name)), *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    line = done.stderr.strip().splitlines()[-1]
    prefix = f"{name}: error: "
    assert line.startswith(prefix), line
    return line[len(prefix):]


def test_versions_promotion_and_rollback(demo, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(demo["models"], models)
    registry = cauce.Registry(str(models))
    cauce.train(str(MODEL), pipeline_config=str(PIPELINE), registry=str(models), register=True)
    # Cards and records hold version numbers as stored (v2 is 2).
    versions = [card["version"] for card in registry.versions()]
    assert versions == [1, 2]
    assert registry.card("latest")["version"] == 1
    record = registry.promote("v2", reason="from python")
    assert (record["version"], record["previous"], record["reason"]) == (2, 1, "from python")
    assert registry.load().version == "v2"
    back = registry.rollback(reason="undo")
    assert back["version"] == 1 and back["action"] == "rollback"
    assert [r["version"] for r in registry.history()] == [1, 2, 1]
    assert registry.aliases() == ["latest"]
    assert registry.verify("v2")["corrupted"] == []


def test_errors_carry_the_binaries_messages(demo, tmp_path):
    registry = str(demo["models"])
    with pytest.raises(cauce.Error) as raised:
        cauce.Registry(registry).load("v99")
    expected = cli_error(
        "inference", "--config", str(PIPELINE), "--registry", registry, "--model", "v99",
        "--input", str(demo["raw"] / "penguins.csv"), "--output", str(tmp_path / "out"),
        cwd=demo["root"],
    )
    assert str(raised.value) == expected
    missing = tmp_path / "missing.yaml"
    with pytest.raises(cauce.EtlError) as raised:
        cauce.etl(str(missing))
    assert str(raised.value) == cli_error("etl", "--config", str(missing), cwd=tmp_path)
    with pytest.raises(cauce.TrainError) as raised:
        cauce.train(str(missing), pipeline_config=str(PIPELINE))
    assert str(raised.value) == cli_error(
        "trainer", "--config", str(missing), "--pipeline-config", str(PIPELINE), cwd=tmp_path
    )
    with pytest.raises(cauce.RegistryError, match="version"):
        cauce.Registry(registry).card("v0")
    with pytest.raises(ValueError, match="transform_tables"):
        cauce.Registry(registry).load(transform_tables="sometimes")
    with pytest.raises(TypeError, match="pyarrow Table"):
        cauce.Registry(registry).load().predict([1, 2, 3])


def test_a_registry_on_the_s3_test_server(demo):
    # make test starts the server (scripts/with-s3-test-server.sh); without
    # it this test fails rather than skips.
    assert os.environ.get("CAUCE_TEST_S3") == "1", "run under scripts/with-s3-test-server.sh"
    bucket = os.environ["CAUCE_TEST_S3_BUCKET"]
    location = f"s3://{bucket}/python-{uuid.uuid4().hex}/models"
    cauce.train(str(MODEL), pipeline_config=str(PIPELINE), registry=location, promote=True)
    model = cauce.Registry(location).load("latest")
    table = pacsv.read_csv(demo["raw"] / "penguins.csv")
    local = cauce.Registry(str(demo["models"])).load("latest").predict(table)
    remote = model.predict(table)
    assert remote.column("prediction").to_pylist() == local.column("prediction").to_pylist()

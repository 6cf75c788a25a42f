#!/usr/bin/env python3
"""The Slurm test of `make test`: Cauce on a real (one-node) Slurm cluster
against the S3 test server, with the shipped sbatch scripts of deploy/slurm/.

1. 4-task arrays: sharded ETL, its merge, training, sharded inference and its
   merge; the merged outputs must equal a single-process run's (train, test,
   quarantine and prediction rows, as multisets; row counts).
2. Kill and resubmit: one task of an ETL array is cancelled while it runs
   (scancel); the merge must refuse, publishing nothing; resubmitting only that
   index must replace only its shard, and the merge must then equal a
   single-process run.

Run inside scripts/with-s3-test-server.sh (it needs AWS_* and boto3/pyarrow
from .s3-venv); it starts the cluster with scripts/slurm-test-cluster.sh.
"""

import argparse
import collections
import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
SHARDS = 4


def log(message):
    print(f"slurm-test: {message}", flush=True)


def fail(message):
    print(f"slurm-test: FAILED: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


class Bucket:
    def __init__(self, bucket, prefix):
        self.client = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        self.bucket, self.prefix = bucket, prefix

    def url(self, key=""):
        return f"s3://{self.bucket}/{self.prefix}/{key}".rstrip("/")

    def put(self, key, data):
        self.client.put_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}", Body=data)

    def get(self, key):
        return self.client.get_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")["Body"].read()

    def exists(self, key):
        try:
            self.client.head_object(Bucket=self.bucket, Key=f"{self.prefix}/{key}")
            return True
        except self.client.exceptions.ClientError:
            return False

    def keys(self, under):
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}/{under}"
        )
        return [o["Key"] for page in pages for o in page.get("Contents", [])]


def penguin_files(extra_rows=0):
    """The penguins as 8 CSV files with an id column, a few bad rows, a
    duplicate within a file and one across shards; `extra_rows` more rows in
    file 2 (the kill test's slow shard)."""
    with open(ROOT / "data/raw/penguins.csv", newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    files = collections.defaultdict(list)
    for i, row in enumerate(body):
        files[i * 8 // len(body)].append([str(i + 1)] + row)
    files[3].append(["9001", "Emperor", "Ross", "40.1", "18.0", "190", "3800", "male", "2008"])
    files[5].append(["9002", "Adelie", "Dream", "4.0", "18.0", "190", "3800", "female", "2008"])
    files[6].append(list(files[6][0]))  # an exact duplicate
    files[7].append(list(files[2][0]))  # a copy of a row of another shard's file
    for i in range(extra_rows):
        base = body[i % len(body)]
        files[2].append([str(100_000 + i)] + base)
    out = {}
    for index, rows in files.items():
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["id"] + header)
        writer.writerows(rows)
        out[f"part-{index:02}.csv"] = text.getvalue().encode()
    return out


def keyed_config(work):
    """The shipped pipeline config with a keyed split (the same rows whatever
    the shard count)."""
    text = (ROOT / "config/pipeline_config.yaml").read_text()
    marker = "    seed: 42\n  parquet:"
    if marker not in text:
        fail("config/pipeline_config.yaml changed: cannot add split.key")
    path = work / "pipeline.yaml"
    path.write_text(text.replace(marker, "    seed: 42\n    key: [id]\n  parquet:"))
    return path


class Cluster:
    def __init__(self, bin_dir, work, env):
        self.bin_dir, self.work, self.env = bin_dir, work, env

    def sbatch(self, script, *args, array=None, wait=True, extra_env=None, check=True):
        env = dict(self.env, **(extra_env or {}))
        command = ["sbatch", "--parsable", "--cpus-per-task=1", "--mem=1G",
                   f"--output={self.work}/jobs/%x-%A_%a.out" if array is not None
                   else f"--output={self.work}/jobs/%x-%j.out"]
        if array is not None:
            command.append(f"--array={array}")
        if wait:
            command.append("--wait")
        command += [str(ROOT / "deploy/slurm" / script), *args]
        result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        job = result.stdout.strip().split(";")[0]
        if check and result.returncode != 0:
            self.show_logs()
            fail(f"{' '.join(command[-2:])}: sbatch exited {result.returncode}: {result.stderr.strip()}")
        return job, result.returncode

    def show_logs(self):
        for path in sorted((self.work / "jobs").glob("*.out")):
            text = path.read_text().strip()
            if "error" in text.lower():
                print(f"--- {path.name}\n{text[-2000:]}", file=sys.stderr)

    def state(self, job):
        result = subprocess.run(["squeue", "-h", "-j", job, "-o", "%T"], env=self.env,
                                capture_output=True, text=True)
        return result.stdout.strip()

    def run(self, binary, *args, extra_env=None):
        env = dict(self.env, **(extra_env or {}))
        result = subprocess.run([str(self.bin_dir / binary), *args], env=env, cwd=ROOT,
                                capture_output=True, text=True)
        if result.returncode != 0:
            fail(f"{binary} {' '.join(args)}: {result.stderr.strip()[-1500:]}")
        return result.stdout


def dataset_rows(store, output, manifest, dataset):
    rows = collections.Counter()
    files = manifest["outputs"] if dataset is None else manifest["outputs"].get(dataset, [])
    if dataset is None:
        files = files + manifest.get("quarantine", [])
    for f in files:
        table = pq.read_table(io.BytesIO(store.get(f"{output}/{f['path']}")))
        for row in table.to_pylist():
            rows[json.dumps(row, sort_keys=True, default=str)] += 1
    return rows


def compare_etl(store, sharded, single):
    a = json.loads(store.get(f"{sharded}/_manifest.json"))
    b = json.loads(store.get(f"{single}/_manifest.json"))
    if a["rows"] != b["rows"]:
        fail(f"row counts differ: sharded {a['rows']} single {b['rows']}")
    if not a.get("shards") or a["shards"]["count"] != SHARDS:
        fail(f"{sharded}/_manifest.json is not a merge of {SHARDS} shards")
    for dataset in ["train", "test", "quarantine"]:
        if dataset_rows(store, sharded, a, dataset) != dataset_rows(store, single, b, dataset):
            fail(f"{dataset} rows differ between {sharded} and {single}")
    log(f"{sharded} == {single}: {a['rows']}")
    return a


def scenario_pipeline(cluster, store, env):
    shard_env = {"CAUCE_SHARD_COUNT": str(SHARDS)}
    log(f"ETL: sbatch --array=0-{SHARDS - 1} etl.sbatch, then merge.sbatch etl")
    cluster.sbatch("etl.sbatch", array=f"0-{SHARDS - 1}", extra_env=shard_env)
    cluster.sbatch("merge.sbatch", "etl")
    log("training: sbatch train.sbatch")
    cluster.sbatch("train.sbatch")
    log(f"inference: sbatch --array=0-{SHARDS - 1} inference.sbatch, then merge.sbatch inference")
    cluster.sbatch("inference.sbatch", array=f"0-{SHARDS - 1}", extra_env=shard_env)
    cluster.sbatch("merge.sbatch", "inference")

    log("single-process runs of the same stages")
    cluster.run("etl", "--config", env["CAUCE_CONFIG"],
                extra_env={"CAUCE_PROCESSED": store.url("single/processed")})
    cluster.run("inference", "--config", env["CAUCE_CONFIG"], "--model", "v1",
                extra_env={"CAUCE_PREDICTIONS": store.url("single/predictions")})
    compare_etl(store, "processed", "single/processed")
    a = json.loads(store.get("predictions/_manifest.json"))
    b = json.loads(store.get("single/predictions/_manifest.json"))
    if a["rows"] != b["rows"] or a["model"]["version"] != "v1":
        fail(f"prediction counts differ: sharded {a['rows']} single {b['rows']}")
    if dataset_rows(store, "predictions", a, None) != dataset_rows(store, "single/predictions", b, None):
        fail("prediction rows differ between the merged shards and the single run")
    if a.get("shards", {}).get("count") != SHARDS:
        fail("predictions/_manifest.json is not a merge of the shards")
    log(f"predictions == single run: {a['rows']}")


def scenario_kill(cluster, store, env):
    for name, data in penguin_files(extra_rows=400_000).items():
        store.put(f"raw-kill/{name}", data)
    kill_env = {
        "CAUCE_SHARD_COUNT": str(SHARDS),
        "CAUCE_ETL_INPUT": store.url("raw-kill"),
        "CAUCE_PROCESSED": store.url("processed-kill"),
    }
    log("kill: an ETL array whose shard 2 has 400k more rows; scancel it while it runs")
    job, _ = cluster.sbatch("etl.sbatch", array=f"0-{SHARDS - 1}", wait=False, extra_env=kill_env)
    task = f"{job}_2"
    deadline = time.time() + 300
    while not store.keys("processed-kill/runs/shard-2-of-4/"):
        if time.time() > deadline:
            fail("shard 2 never started writing")
        time.sleep(0.05)
    subprocess.run(["scancel", "--signal=KILL", task], env=cluster.env, check=True)
    log(f"scancel --signal=KILL {task} once its run folder appeared")
    while cluster.state(job):
        if time.time() > deadline:
            fail("the array did not finish")
        time.sleep(0.5)
    if store.exists("processed-kill/_manifest.shard-2-of-4.json"):
        fail("shard 2 finished before it was cancelled; the kill case was not exercised")
    before = {i: store.get(f"processed-kill/_manifest.shard-{i}-of-4.json") for i in (0, 1, 3)}
    _, code = cluster.sbatch("merge.sbatch", "etl", extra_env=kill_env, check=False)
    if code == 0 or store.exists("processed-kill/_manifest.json"):
        fail("the merge published with shard 2 missing")
    log("the merge refused with shard 2 missing")
    log("resubmit only index 2: sbatch --array=2 etl.sbatch")
    cluster.sbatch("etl.sbatch", array="2", extra_env=kill_env)
    for i, data in before.items():
        if store.get(f"processed-kill/_manifest.shard-{i}-of-4.json") != data:
            fail(f"resubmitting shard 2 changed shard {i}'s manifest")
    cluster.sbatch("merge.sbatch", "etl", extra_env=kill_env)
    cluster.run("etl", "--config", env["CAUCE_CONFIG"], extra_env={
        "CAUCE_ETL_INPUT": store.url("raw-kill"),
        "CAUCE_PROCESSED": store.url("single/processed-kill"),
    })
    merged = compare_etl(store, "processed-kill", "single/processed-kill")
    runs = [s["run_id"] for s in merged["shards"]["shards"]]
    for i, data in before.items():
        if json.loads(data)["run_id"] != runs[i]:
            fail(f"the merge does not use shard {i}'s original run")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", default="target/debug")
    args = parser.parse_args()
    bin_dir = (ROOT / args.bin_dir).resolve()
    work = ROOT / "target/slurm-test"
    (work / "jobs").mkdir(parents=True, exist_ok=True)
    for old in (work / "jobs").glob("*.out"):
        old.unlink()

    started = subprocess.run([str(ROOT / "scripts/slurm-test-cluster.sh"), "start"],
                             capture_output=True, text=True)
    if started.returncode != 0:
        fail(f"the Slurm test cluster did not start: {started.stderr.strip()}")
    slurm_conf = started.stdout.strip().split("=", 1)[1]
    store = Bucket(os.environ["CAUCE_TEST_S3_BUCKET"], f"slurm-test-{os.getpid()}-{int(time.time())}")
    for name, data in penguin_files().items():
        store.put(f"raw/{name}", data)
    env = dict(os.environ)
    env.update({
        "SLURM_CONF": slurm_conf,
        "CAUCE_BIN": str(bin_dir),
        "CAUCE_CONFIG": str(keyed_config(work)),
        "CAUCE_MODEL_CONFIG": str(ROOT / "config/model_config.yaml"),
        "CAUCE_RAW": store.url("raw"),
        "CAUCE_ETL_INPUT": store.url("raw"),
        "CAUCE_INFER_INPUT": store.url("raw"),
        "CAUCE_PROCESSED": store.url("processed"),
        "CAUCE_MODELS": store.url("models"),
        "CAUCE_PREDICTIONS": store.url("predictions"),
        "CAUCE_LOG_DIR": str(work / "logs"),
    })
    cluster = Cluster(bin_dir, work, env)
    clock = time.time()
    try:
        scenario_pipeline(cluster, store, env)
        scenario_kill(cluster, store, env)
    finally:
        subprocess.run([str(ROOT / "scripts/slurm-test-cluster.sh"), "stop"], capture_output=True)
    log(f"passed in {time.time() - clock:.0f} s ({store.url()})")


if __name__ == "__main__":
    main()

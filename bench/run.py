#!/usr/bin/env python3
"""`make bench`: Cauce's release binaries against the Python stack users would
otherwise pick (pandas / polars for ETL, scikit-learn for training and
inference, LightGBM and XGBoost for gradient boosting), side by side on the same machine, the same files and the same work.

Each workload runs --runs times (default 3) per side; the table holds medians
of wall time, CPU time (user + sys) and peak RSS of the whole process tree,
measured with wait4(2) (what /usr/bin/time -v reports). Both sides' row counts
are checked against each other (a mismatch stops the bench), and every
correctness target (test accuracy or RMSE within its tolerance of the peer's)
must be met: a missed one makes the bench exit 1 after writing its report.
Timing targets are reported apart (this machine is shared and noisy); with
--strict-timing a missed one fails the bench too.
Writes its results to docs/results/bench.json and BENCHMARKS.md's generated
block (the tables, the machine, the exact commands); the analysis below the
block in BENCHMARKS.md is written by hand and kept.

    bench/run.py                     # the full benchmark (~20 minutes)
    bench/run.py --smoke --bin-dir target/debug --report /tmp/b.md
                                     # tiny sizes, one run: proves the harness works
    bench/run.py --only etl --runs 5 --report target/bench/etl.md
                                     # the ETL workloads alone
"""

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import docgen  # noqa: E402  (generated blocks in documents)

BENCH = ROOT / "bench"
VENV = BENCH / ".venv"
PY = BENCH / "python"
CONFIG = BENCH / "config"

FULL = {"etl": 1_000_000, "forest": 100_000, "tree": 1_000_000, "logistic": 1_000_000,
        "linear": 1_000_000, "knn": 50_000, "infer": 1_000_000, "memory": 10_000_000,
        "boosting": 1_000_000, "boosting_regression": 300_000}
SMOKE = {"etl": 4_000, "forest": 3_000, "tree": 4_000, "logistic": 4_000, "linear": 4_000,
         "knn": 3_000, "infer": 3_000, "memory": 5_000, "boosting": 4_000,
         "boosting_regression": 4_000}


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Failed(Exception):
    pass


class Done(Exception):
    """The workloads --only asked for are measured."""


# --------------------------------------------------------------------------- measuring

def measure(cmd, work, env=None):
    """Runs cmd once; returns wall/cpu seconds, peak RSS (MB) and stdout."""
    out_path, err_path = work / "stdout.txt", work / "stderr.txt"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        child = subprocess.Popen([str(c) for c in cmd], cwd=ROOT, stdout=out, stderr=err,
                                 env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise Failed(f"{' '.join(map(str, cmd))} exited {child.returncode}:\n"
                     f"{err_path.read_text()[-3000:]}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime,
            "rss": usage.ru_maxrss / 1024, "stdout": out_path.read_text()}


def interleaved(runs, work, sides):
    """sides: [(name, make)], make(i, folder) -> (cmd, env). Run i of every
    side goes before run i + 1 of any, so a slow spell of this shared machine
    hits all sides alike; each run gets an empty folder. Returns one result
    (medians and the runs) per side, in order."""
    results = {name: [] for name, _ in sides}
    for i in range(runs):
        for name, make in sides:
            folder = work / f"{name}-{i}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            cmd, env = make(i, folder)
            results[name].append({**measure(cmd, folder, env), "folder": folder, "cmd": cmd})
    summaries = []
    for name, _ in sides:
        runs_of = results[name]
        med = {k: statistics.median(r[k] for r in runs_of) for k in ("wall", "cpu", "rss")}
        log(f"{name}: wall {med['wall']:.2f}s cpu {med['cpu']:.2f}s rss {med['rss']:.0f}MB "
            f"(median of {runs})")
        summaries.append({**med, "runs": runs_of, "cmd": runs_of[0]["cmd"]})
    return summaries


def repeat(name, runs, make, work):
    """One side alone: make(i, folder) -> (cmd, env)."""
    return interleaved(runs, work, [(name, make)])[0]


# --------------------------------------------------------------------------- setup

def ensure_venv():
    requirements = (BENCH / "requirements.txt").read_bytes()
    stamp = VENV / "requirements.sha256"
    digest = hashlib.sha256(requirements).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return VENV / "bin" / "python"
    log(f"installing the Python peers into {VENV} (about a minute)")
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                    "-r", str(BENCH / "requirements.txt")], check=True)
    stamp.write_text(digest)
    return VENV / "bin" / "python"


def generate(bin_dir, data, rows, ext, seed, regression=False):
    kind = "synthetic-regression" if regression else "synthetic"
    path = data / f"{kind}-{rows}-{seed}.{ext}"
    if not path.exists():
        log(f"generating {path.name}")
        tmp = path.with_suffix(".tmp." + ext)
        subprocess.run([str(bin_dir / "cauce-bench"), "generate", str(tmp), "--rows", str(rows),
                        "--seed", str(seed)] + (["--regression"] if regression else []),
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        tmp.rename(path)
    return path


def manifest_files(processed, split):
    manifest = json.loads((processed / "_manifest.json").read_text())
    return [processed / f["path"] for f in manifest["outputs"][split]]


# --------------------------------------------------------------------------- workloads

def bench_etl(ctx, rows):
    csv = generate(ctx.bins, ctx.data, rows, "csv", 42)
    etl = ctx.bins / "etl"
    def cauce_etl(binary):
        return lambda i, f: (
            [binary, "--config", CONFIG / "pipeline.yaml", "--input", csv, "--output",
             f / "out", "--force"], {"CAUCE_LOG_DIR": str(f / "logs")})
    sides = [(f"etl-{rows}-cauce", cauce_etl(etl)),
             (f"etl-{rows}-polars", lambda i, f: (
                 [ctx.python, PY / "etl_polars.py", csv, f / "out"], None)),
             (f"etl-{rows}-pandas", lambda i, f: (
                 [ctx.python, PY / "etl_pandas.py", csv, f / "out"], None))]
    if ctx.baseline:
        sides.append((f"etl-{rows}-before", cauce_etl(ctx.baseline)))
    cauce, polars, pandas, *before = interleaved(ctx.runs, ctx.work, sides)
    check_etl(ctx, f"ETL {rows:,}", rows, cauce, (polars, pandas, *before))
    peers = [("polars", polars), ("pandas", pandas)]
    if before:
        peers.append((f"Cauce before ({ctx.baseline_name})", before[0]))
        target(ctx, f"ETL wall / Cauce before ({ctx.baseline_name}), same run",
               ratio(cauce["wall"], before[0]["wall"]), 1.05)
    ctx.row(f"ETL, {rows:,} rows CSV → split Parquet", cauce, peers)
    return cauce, polars, pandas


def bench_etl_transform(ctx, rows):
    """ETL with a SQL transform (bench/config/pipeline_transform.yaml): a
    lookup join, two derived columns and a filter, against polars doing the
    same (etl_polars.py --transform)."""
    csv = generate(ctx.bins, ctx.data, rows, "csv", 42)
    etl = ctx.bins / "etl"
    colours = CONFIG / "colours.csv"
    cauce, polars = interleaved(ctx.runs, ctx.work, [
        (f"etl-transform-{rows}-cauce", lambda i, f: (
            [etl, "--config", CONFIG / "pipeline_transform.yaml", "--input", csv, "--output",
             f / "out", "--force"], {"CAUCE_LOG_DIR": str(f / "logs")})),
        (f"etl-transform-{rows}-polars", lambda i, f: (
            [ctx.python, PY / "etl_polars.py", csv, f / "out", "--transform", colours], None)),
    ])
    check_etl(ctx, f"ETL with transform {rows:,}", rows, cauce, (polars,))
    ctx.row(f"ETL + SQL transform (lookup, 2 derived columns, filter), {rows:,} rows", cauce,
            [("polars", polars)])
    return cauce, polars


def check_etl(ctx, title, rows, cauce, peers):
    """Both sides read, filtered and kept the same rows and split 80/20."""
    manifest = json.loads((cauce["runs"][0]["folder"] / "out" / "_manifest.json").read_text())
    counts = manifest["rows"]
    ours = {"input": counts["input"], "filtered": counts.get("filtered", 0),
            "train": counts["train"], "test": counts["test"]}
    for peer in peers:
        if peer["cmd"][0] == ctx.baseline:
            before = json.loads((peer["runs"][0]["folder"] / "out" / "_manifest.json").read_text())
            theirs = {**before["rows"], "filtered": before["rows"].get("filtered", 0)}
        else:
            theirs = json.loads(peer["runs"][0]["stdout"])
        if theirs["input"] != ours["input"] or theirs.get("filtered", 0) != ours["filtered"] or \
                theirs["train"] + theirs["test"] != ours["train"] + ours["test"]:
            raise Failed(f"{title}: row counts differ: cauce {counts}, peer {theirs}")
        if abs(theirs["test"] / (theirs["train"] + theirs["test"]) - 0.2) > 0.02 + 50 / rows:
            raise Failed(f"{title}: peer split is not 80/20: {theirs}")
    filtered = f", filtered {ours['filtered']:,}" if ours["filtered"] else ""
    ctx.checks.append(f"{title}: input {ours['input']:,} rows{filtered}, kept "
                      f"{ours['train'] + ours['test']:,} on both sides (train "
                      f"{ours['train']:,} / test {ours['test']:,} for Cauce)")


def processed(ctx, rows, regression=False):
    """Cauce's ETL output for `rows` synthetic rows (made once, not timed)."""
    out = ctx.work / f"processed-{'regression-' if regression else ''}{rows}"
    pipeline = CONFIG / ("pipeline_regression.yaml" if regression else "pipeline.yaml")
    if not (out / "_manifest.json").exists():
        csv = generate(ctx.bins, ctx.data, rows, "csv", 42, regression)
        subprocess.run([str(ctx.bins / "etl"), "--config", str(pipeline),
                        "--input", str(csv), "--output", str(out), "--force"], check=True,
                       cwd=ROOT, stdout=subprocess.DEVNULL,
                       env={**os.environ, "CAUCE_LOG_DIR": str(ctx.work / "logs")})
    return out


def bench_train(ctx, algorithm, rows, title, tolerance):
    data = processed(ctx, rows)
    train, test = manifest_files(data, "train"), manifest_files(data, "test")
    trainer = ctx.bins / "trainer"
    cauce, sklearn = interleaved(ctx.runs, ctx.work, [
        (f"train-{algorithm}-{rows}-cauce", lambda i, f: (
            [trainer, "--config", CONFIG / f"{algorithm}.yaml", "--pipeline-config",
             CONFIG / "pipeline.yaml", "--data", data, "--registry", f / "models", "--json"],
            {"CAUCE_LOG_DIR": str(f / "logs")})),
        (f"train-{algorithm}-{rows}-sklearn", lambda i, f: (
            [ctx.python, PY / "train.py", algorithm, f / "model.joblib", "--train", *train,
             "--test", *test], None)),
    ])
    ours = json.loads(cauce["runs"][0]["stdout"])
    theirs = json.loads(sklearn["runs"][0]["stdout"])
    if "rmse" in theirs:
        # Regression: the same optimum, so RMSE within `tolerance` percent.
        rmse = ours["metrics"]["rmse"]
        gap = 100 * (rmse - theirs["rmse"]) / theirs["rmse"]
        ok = abs(gap) <= tolerance
        ctx.checks.append(f"{title}: test RMSE Cauce {rmse:.6f}, scikit-learn "
                          f"{theirs['rmse']:.6f} ({gap:+.4f}%; target within ±{tolerance}%) "
                          f"on {theirs['test']:,} test rows — {'met' if ok else 'MISSED'}")
        ctx.correctness.append((f"{title}: RMSE within {tolerance}%", ok))
    else:
        accuracy = ours["metrics"]["accuracy"]
        gap = 100 * (accuracy - theirs["accuracy"])
        ok = gap >= -tolerance
        ctx.checks.append(f"{title}: test accuracy Cauce {accuracy:.4f}, scikit-learn "
                          f"{theirs['accuracy']:.4f} ({gap:+.2f} points; target ≥ "
                          f"−{tolerance}) on {theirs['test']:,} test rows — "
                          f"{'met' if ok else 'MISSED'}")
        ctx.correctness.append((f"{title}: accuracy within {tolerance} point(s)", ok))
    if theirs["test"] != ours["rows"]["test"]:
        raise Failed(f"{title}: test rows differ: {ours['rows']} vs {theirs}")
    ctx.row(title, cauce, [("scikit-learn", sklearn)])
    models = cauce["runs"][0]["folder"] / "models" / "versioned" / "v1"
    artifacts = (models / "model.bin", sklearn["runs"][0]["folder"] / "model.joblib")
    return (cauce, sklearn), artifacts


def bench_boosting(ctx, rows, regression):
    """Gradient boosting against LightGBM and XGBoost (hist), same data, same
    preprocessing, same settings (bench/python/train.py)."""
    data = processed(ctx, rows, regression)
    train, test = manifest_files(data, "train"), manifest_files(data, "test")
    config = CONFIG / ("boosting_regression.yaml" if regression else "boosting.yaml")
    pipeline = CONFIG / ("pipeline_regression.yaml" if regression else "pipeline.yaml")
    suffix = "-reg" if regression else ""
    task = "regression" if regression else "classification"
    peer = lambda name: lambda i, f: (  # noqa: E731
        [ctx.python, PY / "train.py", name + suffix, f / "model.joblib", "--train", *train,
         "--test", *test], None)
    cauce, lightgbm, xgboost = interleaved(ctx.runs, ctx.work, [
        (f"train-boosting-{task}-{rows}-cauce", lambda i, f: (
            [ctx.bins / "trainer", "--config", config, "--pipeline-config", pipeline,
             "--data", data, "--registry", f / "models", "--json"],
            {"CAUCE_LOG_DIR": str(f / "logs")})),
        (f"train-boosting-{task}-{rows}-lightgbm", peer("lightgbm")),
        (f"train-boosting-{task}-{rows}-xgboost", peer("xgboost")),
    ])
    ours = json.loads(cauce["runs"][0]["stdout"])
    lgb = json.loads(lightgbm["runs"][0]["stdout"])
    xgb = json.loads(xgboost["runs"][0]["stdout"])
    title = f"Train gradient boosting ({task}, 100 rounds), {rows:,} rows"
    if lgb["test"] != ours["rows"]["test"]:
        raise Failed(f"{title}: test rows differ: {ours['rows']} vs {lgb}")
    if regression:
        rmse = ours["metrics"]["rmse"]
        ok = rmse <= 1.01 * lgb["rmse"]
        ctx.checks.append(f"{title}: test RMSE Cauce {rmse:.4f}, LightGBM {lgb['rmse']:.4f}, "
                          f"XGBoost {xgb['rmse']:.4f} on {lgb['test']:,} test rows")
        ctx.correctness.append(
            (f"{title}: RMSE {rmse:.4f} ≤ 1.01 × LightGBM's {lgb['rmse']:.4f}", ok))
    else:
        accuracy = ours["metrics"]["accuracy"]
        gap = 100 * (accuracy - lgb["accuracy"])
        ctx.checks.append(f"{title}: test accuracy Cauce {accuracy:.4f}, LightGBM "
                          f"{lgb['accuracy']:.4f}, XGBoost {xgb['accuracy']:.4f} on "
                          f"{lgb['test']:,} test rows")
        ctx.correctness.append(
            (f"{title}: accuracy {gap:+.2f} points vs LightGBM (target ≥ −0.3)", gap >= -0.3))
    ctx.row(title, cauce, [("LightGBM", lightgbm), ("XGBoost hist", xgboost)])
    models = cauce["runs"][0]["folder"] / "models" / "versioned" / "v1"
    artifacts = (models / "model.bin", lightgbm["runs"][0]["folder"] / "model.joblib")
    return (cauce, lightgbm, xgboost), artifacts


def bench_infer(ctx, name, rows, models, peer="scikit-learn"):
    source = generate(ctx.bins, ctx.data, rows, "parquet", 7)
    ours, theirs = models
    cauce, sklearn, floor = interleaved(ctx.runs, ctx.work, [
        (f"infer-{name}-{rows}-cauce", lambda i, f: (
            [ctx.bins / "inference", "--config", CONFIG / "pipeline.yaml", "--model", ours,
             "--input", source, "--output", f / "out"], {"CAUCE_LOG_DIR": str(f / "logs")})),
        (f"infer-{name}-{rows}-{peer.lower()}", lambda i, f: (
            [ctx.python, PY / "predict.py", theirs, source, f / "out.parquet"], None)),
        (f"io-floor-{name}-{rows}", lambda i, f: (
            [ctx.bins / "cauce-bench", "io-floor", source, f / "out.parquet"], None)),
    ])
    manifest = json.loads((cauce["runs"][0]["folder"] / "out" / "_manifest.json").read_text())
    predicted = manifest["rows"]["predicted"]
    peer_rows = json.loads(sklearn["runs"][0]["stdout"])["rows"]
    if predicted != peer_rows or predicted != rows:
        raise Failed(f"inference rows differ: cauce {manifest['rows']}, {peer} {peer_rows}")
    ctx.checks.append(f"Inference {name} {rows:,}: {predicted:,} rows predicted on both sides")
    ctx.row(f"Inference, {rows:,} rows, {name}", cauce, [(peer, sklearn),
                                                         ("I/O floor", floor)])
    return cauce, sklearn, floor


def ensure_cauce_package(ctx):
    """The cauce Python package in the bench's venv: the release abi3 wheel
    (scripts/python.sh wheel), or with --smoke the debug build (maturin
    develop: the one make test's python-test built, no release build)."""
    if ctx.smoke:
        subprocess.run([str(ROOT / "scripts" / "python.sh"), "develop", str(VENV)], check=True,
                       cwd=ROOT)
        return
    subprocess.run([str(ROOT / "scripts" / "python.sh"), "wheel"], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    wheels = sorted((ROOT / "target" / "wheels").glob("cauce-*.whl"),
                    key=lambda p: p.stat().st_mtime)
    if not wheels:
        raise Failed("scripts/python.sh wheel made no wheel in target/wheels")
    subprocess.run([str(VENV / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                    "--no-deps", "--force-reinstall", str(wheels[-1])], check=True)


def bench_python_predict(ctx, rows, models):
    """The Python package's Model.predict against the inference binary on
    the same rows and model (and scikit-learn's predict)."""
    source = generate(ctx.bins, ctx.data, rows, "parquet", 7)
    ours, theirs = models
    binary, package, sklearn = interleaved(ctx.runs, ctx.work, [
        (f"python-predict-{rows}-binary", lambda i, f: (
            [ctx.bins / "inference", "--config", CONFIG / "pipeline.yaml", "--model", ours,
             "--input", source, "--output", f / "out"], {"CAUCE_LOG_DIR": str(f / "logs")})),
        (f"python-predict-{rows}-package", lambda i, f: (
            [ctx.python, PY / "predict_cauce.py", ours, source, f / "out.parquet"], None)),
        (f"python-predict-{rows}-scikit-learn", lambda i, f: (
            [ctx.python, PY / "predict.py", theirs, source, f / "out.parquet"], None)),
    ])
    scored = json.loads(package["runs"][0]["stdout"])
    if scored["rows"] != rows or scored["scored"] != rows:
        raise Failed(f"Model.predict scored {scored} of {rows} rows")
    same = subprocess.run([ctx.python, PY / "same_column.py", "prediction",
                           binary["runs"][0]["folder"] / "out",
                           package["runs"][0]["folder"] / "out.parquet"])
    if same.returncode != 0:
        raise Failed("Model.predict's predictions differ from the inference binary's")
    ctx.checks.append(f"Python predict {rows:,}: the package's {rows:,} predictions equal "
                      "the inference binary's")
    ctx.row(f"Python Model.predict (cauce package), {rows:,} rows, forest", package,
            [("inference binary", binary), ("scikit-learn", sklearn)])
    return package, binary, sklearn


def bench_onnx(ctx, rows, models):
    """ONNX Runtime on the forest exported by `model-registry export`
    against the inference binary on the same rows (what to serve it with)."""
    source = generate(ctx.bins, ctx.data, rows, "parquet", 7)
    ours, _ = models
    registry = Path(ours).parent.parent.parent
    exported = ctx.work / f"forest-{rows}.onnx"
    subprocess.run([ctx.bins / "model-registry", "--registry", registry, "export", "v1",
                    "--output", exported], check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    binary, runtime = interleaved(ctx.runs, ctx.work, [
        (f"onnx-{rows}-binary", lambda i, f: (
            [ctx.bins / "inference", "--config", CONFIG / "pipeline.yaml", "--model", ours,
             "--input", source, "--output", f / "out"], {"CAUCE_LOG_DIR": str(f / "logs")})),
        (f"onnx-{rows}-onnxruntime", lambda i, f: (
            [ctx.python, PY / "predict_onnx.py", exported, source, f / "out.parquet"], None)),
    ])
    same = subprocess.run([ctx.python, PY / "same_column.py", "prediction",
                           binary["runs"][0]["folder"] / "out",
                           runtime["runs"][0]["folder"] / "out.parquet"])
    if same.returncode != 0:
        raise Failed("ONNX Runtime's predictions differ from the inference binary's")
    ctx.checks.append(f"ONNX {rows:,}: ONNX Runtime's {rows:,} predictions on the exported "
                      "forest equal the inference binary's")
    ctx.row(f"Inference, {rows:,} rows, forest: Cauce vs the exported ONNX model", binary,
            [("ONNX Runtime", runtime)])
    return binary, runtime


def bench_memory(ctx, rows, model):
    source = generate(ctx.bins, ctx.data, rows, "parquet", 11)
    cauce = repeat(f"infer-memory-{rows}-cauce", ctx.runs, lambda i, f: (
        [ctx.bins / "inference", "--config", CONFIG / "pipeline.yaml", "--model", model,
         "--input", source, "--output", f / "out"], {"CAUCE_LOG_DIR": str(f / "logs")}),
        ctx.work)
    ctx.row(f"Inference, {rows:,} rows, logistic (memory)", cauce, [])
    return cauce


def bench_pipeline(ctx):
    raw = ROOT / "data" / "raw" / "penguins.csv"
    cauce, python, imports = interleaved(ctx.runs, ctx.work, [
        ("pipeline-penguins-cauce", lambda i, f: (
            ["bash", BENCH / "cauce_pipeline.sh", ctx.bins, f], None)),
        ("pipeline-penguins-python", lambda i, f: (
            [ctx.python, PY / "pipeline.py", raw, f], None)),
        # What of the Python side is start-up: the imports alone.
        ("pipeline-penguins-python-imports", lambda i, f: (
            [ctx.python, "-c", "import joblib, numpy, pandas, pyarrow, sklearn.ensemble, "
             "sklearn.pipeline, sklearn.compose, sklearn.impute, sklearn.preprocessing"],
            None)),
    ])
    # Both sides must have done the whole job: every raw row scored.
    ours = json.loads((cauce["runs"][0]["folder"] / "predictions" / "_manifest.json")
                      .read_text())["rows"]
    theirs = json.loads(python["runs"][0]["stdout"])
    if ours["predicted"] != theirs["predictions"]:
        raise Failed(f"penguins pipeline: Cauce predicted {ours}, Python {theirs}")
    ctx.checks.append(f"Whole pipeline: {ours['predicted']} rows predicted on both sides; "
                      f"Python's imports alone take {imports['wall']:.2f} s of its "
                      f"{python['wall']:.2f} s")
    ctx.row("Whole pipeline, penguins sample", cauce,
            [("pandas + scikit-learn", python), ("(Python imports only)", imports)])
    return cauce, python


# --------------------------------------------------------------------------- report

class Context:
    def __init__(self, args):
        self.bins = Path(args.bin_dir).resolve()
        self.runs = args.runs
        self.work = ROOT / "target" / "bench" / ("smoke" if args.smoke else "work")
        self.data = ROOT / "target" / "bench" / ("smoke-data" if args.smoke else "data")
        self.python = None
        self.smoke = args.smoke
        # An earlier etl binary to time beside this one (--baseline-etl).
        self.baseline = Path(args.baseline_etl).resolve() if args.baseline_etl else None
        self.baseline_name = args.baseline_name or (str(args.baseline_etl) if args.baseline_etl
                                                    else None)
        # `targets`: timing and memory; `correctness`: accuracy / RMSE
        # against the peer (these fail the bench).
        self.rows, self.checks, self.targets, self.correctness = [], [], [], []

    def row(self, workload, cauce, peers):
        self.rows.append((workload, cauce, peers))


def ratio(a, b):
    return a / b if b > 0 else float("nan")


def target(ctx, label, value, limit):
    ok = value <= limit
    ctx.targets.append((f"{label}: {value:.2f} (target ≤ {limit})", ok))


def published_ratio(workload, peer):
    """Cauce / `peer` wall on `workload` in the last published bench
    (docs/results/bench.json) and its commit, or None."""
    try:
        results = json.loads((ROOT / "docs/results/bench.json").read_text())
    except (OSError, ValueError):
        return None
    for row in results.get("rows", []):
        if row["workload"] == workload:
            for side in row["peers"]:
                if side["name"] == peer:
                    return ratio(row["cauce"]["wall"], side["wall"]), results.get("commit")
    return None


def evaluate_etl_targets(ctx, etl, etl_transform):
    cauce, polars, pandas = etl
    target(ctx, "ETL wall / polars", ratio(cauce["wall"], polars["wall"]), 1.0)
    previous = published_ratio(ctx.rows[0][0], "polars")
    if previous:
        ratio_now = ratio(cauce["wall"], polars["wall"])
        target(ctx, f"ETL wall / polars, this run ({ratio_now:.2f}) over the last published "
               f"run's ({previous[0]:.2f}, {previous[1]}; within 5% is noise)",
               ratio(ratio_now, previous[0]), 1.05)
    ours, theirs = etl_transform
    target(ctx, "ETL with SQL transform wall / polars", ratio(ours["wall"], theirs["wall"]), 1.0)
    target(ctx, "ETL wall / pandas", ratio(cauce["wall"], pandas["wall"]), 0.3)
    target(ctx, "ETL peak RSS / polars", ratio(cauce["rss"], polars["rss"]), 1.0)


def evaluate_targets(ctx, results):
    (etl, etl_transform, logistic, forest, forest_default, tree, linear, knn, infer_log,
     infer_forest, python_predict, infer_forest_default, memory, pipeline, boosting,
     boosting_regression, infer_boosting) = results
    evaluate_etl_targets(ctx, etl, etl_transform)
    for name, (ours, theirs) in (("logistic regression", logistic), ("random forest", forest),
                                 ("random forest, default depth", forest_default),
                                 ("decision tree", tree), ("linear regression", linear["linear"]),
                                 ("ridge", linear["ridge"]), ("lasso", linear["lasso"]),
                                 ("kNN", knn)):
        target(ctx, f"train {name} wall / scikit-learn", ratio(ours["wall"], theirs["wall"]), 1.0)
    for name, (ours, theirs, floor) in (("logistic", infer_log), ("forest", infer_forest)):
        target(ctx, f"inference {name} wall / scikit-learn", ratio(ours["wall"], theirs["wall"]),
               0.2)
    package, binary, sklearn = python_predict
    target(ctx, "Python Model.predict wall / inference binary", ratio(package["wall"], binary["wall"]),
           1.2)
    target(ctx, "Python Model.predict wall / scikit-learn predict",
           ratio(package["wall"], sklearn["wall"]), 0.5)
    ours, theirs, _ = infer_forest_default
    target(ctx, "inference forest (default depth) wall / scikit-learn",
           ratio(ours["wall"], theirs["wall"]), 0.15)
    ours, _, floor = infer_log
    target(ctx, "inference logistic wall / I/O floor", ratio(ours["wall"], floor["wall"]), 1.5)
    ctx.targets.append((f"inference 10M rows peak RSS: {memory['rss']:.0f} MB (target ≤ 300)",
                        memory["rss"] <= 300))
    target(ctx, "whole pipeline wall / Python", ratio(pipeline[0]["wall"], pipeline[1]["wall"]),
           0.25)
    ours, lightgbm, xgboost = boosting
    target(ctx, "train gradient boosting wall / LightGBM", ratio(ours["wall"], lightgbm["wall"]),
           1.0)
    target(ctx, "train gradient boosting wall / XGBoost hist",
           ratio(ours["wall"], xgboost["wall"]), 1.0)
    ours, lightgbm, _ = boosting_regression
    target(ctx, "train gradient boosting regression wall / LightGBM",
           ratio(ours["wall"], lightgbm["wall"]), 1.0)
    ours, lightgbm, floor = infer_boosting
    target(ctx, "inference gradient boosting wall / LightGBM",
           ratio(ours["wall"], lightgbm["wall"]), 1.0)
    target(ctx, "inference gradient boosting wall / I/O floor", ratio(ours["wall"], floor["wall"]),
           2.0)


def command_line(cmd):
    shown = []
    for part in map(str, cmd):
        shown.append(part.replace(str(ROOT) + "/", ""))
    return " ".join(shown)


def collect(ctx, args, elapsed):
    """Everything the report shows, as plain data (docs/results/bench.json)."""
    def side(m):
        return {"wall": m["wall"], "cpu": m["cpu"], "rss": m["rss"],
                "cmd": command_line(m["cmd"])}
    return {
        "runs": ctx.runs, "minutes": round(elapsed / 60, 1),
        "date": time.strftime("%Y-%m-%d"), "commit": docgen.commit(),
        "machine": f"{os.cpu_count()} cores, {mem_gib():.0f} GiB memory, {cpu_model()}, "
                   f"{platform.system()} {platform.release()}; Python "
                   f"{platform.python_version()}",
        "peers": peer_versions(ctx),
        "rows": [{"workload": workload, "cauce": side(cauce),
                  "peers": [{"name": name, **side(peer)} for name, peer in peers]}
                 for workload, cauce, peers in ctx.rows],
        "correctness": [[label, ok] for label, ok in ctx.correctness],
        "targets": [[label, ok] for label, ok in ctx.targets],
        "checks": list(ctx.checks),
    }


def render(results):
    """BENCHMARKS.md's generated block from `collect`'s results."""
    r = results
    lines = [f"Measured {r['date']} at {r['commit']} by `make bench` (`bench/run.py`). Medians "
             f"of {r['runs']} run(s) per side; wall and CPU (user + sys) in seconds, peak RSS "
             "of the whole process tree in MB, from wait4(2). Ratio = Cauce / peer, measured "
             "in the same run with the sides' runs interleaved (run 1 of each side, then run "
             "2, …), so a slow spell of this shared machine hits every side alike.", "",
             f"Machine: {r['machine']}; peers: {r['peers']}. Bench took {r['minutes']:.1f} "
             "minutes.", "",
             "| workload | side | wall s | CPU s | peak RSS MB | wall ratio | RSS ratio |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for row in r["rows"]:
        cauce = row["cauce"]
        lines.append(f"| {row['workload']} | **Cauce** | {cauce['wall']:.2f} | "
                     f"{cauce['cpu']:.2f} | {cauce['rss']:.0f} | | |")
        for peer in row["peers"]:
            lines.append(f"| | {peer['name']} | {peer['wall']:.2f} | {peer['cpu']:.2f} | "
                         f"{peer['rss']:.0f} | {ratio(cauce['wall'], peer['wall']):.2f} | "
                         f"{ratio(cauce['rss'], peer['rss']):.2f} |")
    lines += ["", "### Correctness targets (a miss fails the bench)", ""]
    lines += [f"- {'met' if ok else '**missed**'}: {label}" for label, ok in r["correctness"]]
    lines += ["", "### Timing targets (reported; `--strict-timing` makes a miss fail)", ""]
    lines += [f"- {'met' if ok else '**missed**'}: {label}" for label, ok in r["targets"]]
    lines += ["", "### Checks (both sides did the same work)", ""]
    lines += [f"- {c}" for c in r["checks"]]
    lines += ["", "### Commands", "", "Data: `target/bench/data/`, made by `cauce-bench "
              "generate` (seeded; see `crates/bench`). Each run writes to an empty folder.",
              "", "```"]
    for row in r["rows"]:
        lines.append(f"# {row['workload']}")
        lines.append(row["cauce"]["cmd"])
        lines += [p["cmd"] for p in row["peers"]]
    lines += ["```"]
    return "\n".join(lines)


def mem_gib():
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 1024 / 1024
    return 0


def cpu_model():
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def peer_versions(ctx):
    pins = [l.strip() for l in (BENCH / "requirements.txt").read_text().splitlines()
            if l.strip() and not l.startswith("#")]
    return ", ".join(p for p in pins if p.split("==")[0] in
                     ("pandas", "polars", "scikit-learn", "pyarrow", "lightgbm", "xgboost-cpu"))


def print_table(ctx):
    print(f"\n{'workload':<48} {'side':<22} {'wall s':>8} {'CPU s':>8} {'RSS MB':>8} {'ratio':>6}")
    for workload, cauce, peers in ctx.rows:
        print(f"{workload:<48} {'Cauce':<22} {cauce['wall']:>8.2f} {cauce['cpu']:>8.2f} "
              f"{cauce['rss']:>8.0f}")
        for name, peer in peers:
            print(f"{'':<48} {name:<22} {peer['wall']:>8.2f} {peer['cpu']:>8.2f} "
                  f"{peer['rss']:>8.0f} {ratio(cauce['wall'], peer['wall']):>6.2f}")
    print()
    for label, ok in ctx.correctness + ctx.targets:
        print(f"  {'met   ' if ok else 'MISSED'} {label}")
    for check in ctx.checks:
        print(f"  check  {check}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, one run")
    parser.add_argument("--runs", type=int, help="runs per side (default 3; 1 with --smoke)")
    parser.add_argument("--bin-dir", default=str(ROOT / "target" / "release"),
                        help="where the Cauce binaries are (default target/release, built first)")
    parser.add_argument("--report", help="write the report here instead of BENCHMARKS.md's "
                        "generated block and docs/results/bench.json (smoke runs)")
    parser.add_argument("--only", choices=["etl"],
                        help="only these workloads (needs --report: the published block "
                        "holds every workload)")
    parser.add_argument("--baseline-etl", metavar="BINARY",
                        help="an earlier build's etl, timed beside this one on the ETL workload")
    parser.add_argument("--baseline-name", help="what --baseline-etl is (e.g. its commit)")
    parser.add_argument("--strict-timing", action="store_true",
                        help="a missed timing or memory target fails the bench too")

    args = parser.parse_args()
    if args.only and not args.report:
        parser.error("--only needs --report")
    args.runs = args.runs or (1 if args.smoke else 3)
    sizes = SMOKE if args.smoke else FULL
    ctx = Context(args)
    started = time.perf_counter()
    try:
        if Path(args.bin_dir).resolve() == (ROOT / "target" / "release").resolve():
            log("building the release binaries")
            subprocess.run(["cargo", "build", "--release", "--workspace", "--bins"], check=True,
                           cwd=ROOT)
        missing = [b for b in ("etl", "trainer", "inference", "cauce-bench")
                   if not (ctx.bins / b).exists()]
        if missing:
            raise Failed(f"{ctx.bins}: missing binaries {missing}; build them first")
        ctx.python = ensure_venv()
        ctx.data.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(ctx.work, ignore_errors=True)
        ctx.work.mkdir(parents=True)
        etl = bench_etl(ctx, sizes["etl"])
        etl_transform = bench_etl_transform(ctx, sizes["etl"])
        if args.only == "etl":
            evaluate_etl_targets(ctx, etl, etl_transform)
            raise Done
        logistic, logistic_models = bench_train(
            ctx, "logistic", sizes["logistic"],
            f"Train logistic regression, {sizes['logistic']:,} rows", 0.5)
        forest, forest_models = bench_train(
            ctx, "forest", sizes["forest"],
            f"Train random forest (100 trees), {sizes['forest']:,} rows", 1)
        forest_default, forest_default_models = bench_train(
            ctx, "forest_default", sizes["forest"],
            f"Train random forest (100 trees, default depth), {sizes['forest']:,} rows", 1)
        tree, _ = bench_train(ctx, "tree", sizes["tree"],
                              f"Train decision tree, {sizes['tree']:,} rows", 1)
        linear = {name: bench_train(ctx, name, sizes["linear"],
                                    f"Train {title}, {sizes['linear']:,} rows", 0.1)[0]
                  for name, title in (("linear", "linear regression"), ("ridge", "ridge"),
                                      ("lasso", "lasso"))}
        knn, _ = bench_train(ctx, "knn", sizes["knn"],
                             f"Train + evaluate kNN (k = 5), {sizes['knn']:,} rows", 0.5)
        infer_log = bench_infer(ctx, "logistic", sizes["infer"], logistic_models)
        infer_forest = bench_infer(ctx, "forest", sizes["infer"], forest_models)
        ensure_cauce_package(ctx)
        python_predict = bench_python_predict(ctx, sizes["infer"], forest_models)
        bench_onnx(ctx, sizes["infer"], forest_models)
        infer_forest_default = bench_infer(ctx, "forest-default", sizes["infer"],
                                           forest_default_models)
        memory = bench_memory(ctx, sizes["memory"], logistic_models[0])
        pipeline = bench_pipeline(ctx)
        boosting, boosting_models = bench_boosting(ctx, sizes["boosting"], False)
        boosting_regression, _ = bench_boosting(ctx, sizes["boosting_regression"], True)
        infer_boosting = bench_infer(ctx, "boosting", sizes["infer"], boosting_models,
                                     "LightGBM")
        evaluate_targets(ctx, (etl, etl_transform, logistic, forest, forest_default, tree, linear, knn,
                               infer_log, infer_forest, python_predict, infer_forest_default,
                               memory, pipeline,
                               boosting, boosting_regression, infer_boosting))
    except Done:
        pass
    except (Failed, subprocess.CalledProcessError) as e:
        sys.exit(f"bench: {e}")
    elapsed = time.perf_counter() - started
    print_table(ctx)
    results = collect(ctx, args, elapsed)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        kind = "smoke run" if args.smoke else f"--only {args.only}" if args.only else "full run"
        Path(args.report).write_text(f"# Benchmarks ({kind})\n\n" + render(results) + "\n")
    else:
        docgen.publish(ROOT / "BENCHMARKS.md", "Benchmarks", __file__, render,
                       ROOT / "docs/results/bench.json", results)
    log(f"wrote {args.report or 'BENCHMARKS.md'} ({elapsed / 60:.1f} minutes)")
    missed = [label for label, ok in ctx.correctness if not ok]
    slow = [label for label, ok in ctx.targets if not ok]
    if missed:
        sys.exit(f"bench: {len(missed)} correctness target(s) missed: " + "; ".join(missed))
    if slow and args.strict_timing:
        sys.exit(f"bench: {len(slow)} timing target(s) missed (--strict-timing): "
                 + "; ".join(slow))


if __name__ == "__main__":
    main()

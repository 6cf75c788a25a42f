#!/usr/bin/env python3
"""Writes RELIABILITY.md's fuzzing block from the logs of a `scripts/fuzz.sh`
run (`make fuzz` calls it; `make fuzz-quick` does not): per target, the runs,
the new corpus entries and the peak RSS libFuzzer printed, with what every
input is checked for. The results go to docs/results/fuzz.json.

    python3 scripts/fuzz_report.py SECONDS TARGET…
"""

import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import docgen  # noqa: E402

ROOT = docgen.ROOT
LOGS = ROOT / "target" / "fuzz-logs"

CHECKS = {
    "csv_chunker": "the chunker cuts where csv-core ends records (any dialect etl accepts, "
                   "reads of 1–16 bytes); the reader's rows, lines and rejected rows are the "
                   "same at any chunk size",
    "ndjson_lines": "the NDJSON line parser agrees with serde_json on every line",
    "config_yaml": "every stage's config loader gives a config or an error; a config that "
                   "loads, written back as YAML, loads again to the same fingerprint",
    "model_artifact": "a model body behind a valid header loads or is refused; a loaded model "
                      "predicts on unseen values, nulls, NaN and extremes without a panic, "
                      "re-encodes to bytes that load to the same bytes, gives one prediction "
                      "per row, and class probabilities that are finite, in [0, 1] and sum "
                      "to 1 (or the row is an error)",
    "stage_records": "any bytes as an ETL manifest read by the trainer, shard manifests read "
                     "by both merges, a model card and promotion records read by the "
                     "registry: used or refused, never a panic",
}


def stats(target):
    text = (LOGS / f"{target}.log").read_text(errors="replace")
    found = dict(re.findall(r"^stat::(\w+):\s+(\d+)", text, re.M))
    return {"runs": int(found.get("number_of_executed_units", 0)),
            "new": int(found.get("new_units_added", 0)),
            "rss_mb": int(found.get("peak_rss_mb", 0))}


def render(results):
    """The fuzzing block of RELIABILITY.md."""
    r = results
    lines = [f"Measured {r['date']} at {r['commit']} by `scripts/fuzz.sh {r['seconds']}` "
             f"(`make fuzz FUZZ_SECONDS={r['seconds']}`), {r['cargo_fuzz']} with libFuzzer, "
             "the stable toolchain with `RUSTC_BOOTSTRAP=1`, AddressSanitizer and debug "
             f"assertions on; each target ran {r['seconds']} s, one after another, from the "
             "seeds in `fuzz/corpus/` plus the inputs earlier runs added under "
             "`target/fuzz-corpus/`. A crash stops the run, so every target listed had none.",
             "", f"| target | what every input is checked for | runs in {r['seconds']} s | "
             "new corpus entries | peak RSS MB | crashes |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for t in r["targets"]:
        lines.append(f"| `{t['name']}` | {CHECKS.get(t['name'], '')} | {t['runs']:,} | "
                     f"{t['new']:,} | {t['rss_mb']} | 0 |")
    return "\n".join(lines)


def main():
    seconds, targets = int(sys.argv[1]), sys.argv[2:]
    version = subprocess.run(["cargo", "fuzz", "--version"], capture_output=True,
                             text=True).stdout.strip() or "cargo-fuzz"
    results = {"seconds": seconds, "date": time.strftime("%Y-%m-%d"),
               "commit": docgen.commit(), "cargo_fuzz": version,
               "targets": [{"name": t, **stats(t)} for t in targets]}
    docgen.publish(ROOT / "RELIABILITY.md", "Reliability", __file__, render,
                   ROOT / "docs/results/fuzz.json", results)
    print(f"fuzz: wrote RELIABILITY.md's fuzzing block ({len(targets)} targets)")


if __name__ == "__main__":
    main()

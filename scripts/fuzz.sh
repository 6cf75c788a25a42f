#!/usr/bin/env bash
# Runs every cargo-fuzz target (libFuzzer) for SECONDS each, installing
# cargo-fuzz first if it is missing. New inputs go to target/fuzz-corpus/
# (the seeds in fuzz/corpus/ stay as committed); a crash stops the run with
# its input saved under fuzz/artifacts/<target>/ and a non-zero exit.
#   scripts/fuzz.sh 600               every target, 10 minutes each
#   scripts/fuzz.sh 30 csv_chunker    one target
# With FUZZ_PUBLISH=1 (make fuzz) a run that finds nothing writes its figures
# into RELIABILITY.md (scripts/fuzz_report.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(csv_chunker ndjson_lines config_yaml model_artifact stage_records)
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2
fi
# cargo-fuzz passes nightly-only flags (-Zsanitizer); the stable toolchain
# accepts them with RUSTC_BOOTSTRAP=1, which is the only toolchain here.
export RUSTC_BOOTSTRAP=1
cargo fuzz build
mkdir -p target/fuzz-logs
for target in "${targets[@]}"; do
    mkdir -p "target/fuzz-corpus/$target"
    log="target/fuzz-logs/$target.log"
    echo "== fuzz $target for ${seconds}s (log: $log)"
    if ! cargo fuzz run "$target" "target/fuzz-corpus/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "== $target failed: the input is under fuzz/artifacts/$target/"
        exit 1
    fi
    grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)|^Done' "$log" || true
done
if [ "${FUZZ_PUBLISH:-0}" = 1 ]; then
    python3 scripts/fuzz_report.py "$seconds" "${targets[@]}"
fi

#!/usr/bin/env bash
# The demo pipeline entirely on the local S3 test server (moto): raw data is
# uploaded to s3://$BUCKET/demo/raw, every stage reads and writes s3:// locations.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
env_lines="$(scripts/s3-test-server.sh start)"
trap 'scripts/s3-test-server.sh stop' EXIT
eval "$env_lines"
base="s3://$CAUCE_TEST_S3_BUCKET/demo"
.s3-venv/bin/python - "$CAUCE_TEST_S3_BUCKET" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
s3.upload_file("data/raw/penguins.csv", sys.argv[1], "demo/raw/penguins.csv")
PY
export CAUCE_RAW="$base/raw" CAUCE_PROCESSED="$base/processed" CAUCE_MODELS="$base/models" CAUCE_PREDICTIONS="$base/predictions"
export CAUCE_ETL_INPUT="$base/raw/penguins.csv" CAUCE_INFER_INPUT="$base/raw/penguins.csv"
target/release/etl --config config/pipeline_config.yaml
target/release/trainer --config config/model_config.yaml
target/release/inference --config config/pipeline_config.yaml
target/release/model-registry --config config/pipeline_config.yaml list
echo "== everything above lives under $base on the S3 test server"

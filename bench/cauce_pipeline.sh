#!/usr/bin/env bash
# Cauce's side of the penguins pipeline benchmark: `make demo` minus the build
# (etl → trainer, which registers and promotes → inference), with every
# location under WORK_DIR so that each run starts from nothing.
#   usage: bench/cauce_pipeline.sh BIN_DIR WORK_DIR
set -euo pipefail
BIN="$1"
WORK="$2"
export CAUCE_PROCESSED="$WORK/processed" CAUCE_MODELS="$WORK/models"
export CAUCE_PREDICTIONS="$WORK/predictions" CAUCE_LOG_DIR="$WORK/logs"
"$BIN/etl" --config config/pipeline_config.yaml >/dev/null
"$BIN/trainer" --config config/model_config.yaml --pipeline-config config/pipeline_config.yaml >/dev/null
"$BIN/inference" --config config/pipeline_config.yaml >/dev/null

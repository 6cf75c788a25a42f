#!/usr/bin/env bash
# Submits the whole pipeline to Slurm as dependent jobs and returns at once:
# ETL array (N tasks) → ETL merge → training → inference array (N tasks) → inference merge.
#   deploy/slurm/pipeline.sh 8            # 8 shards per sharded stage
# Settings come from the environment, as the jobs inherit it: CAUCE_BIN,
# CAUCE_CONFIG, CAUCE_MODEL_CONFIG, CAUCE_RAW, CAUCE_PROCESSED, CAUCE_MODELS,
# CAUCE_PREDICTIONS, AWS_* for S3. Extra sbatch flags (partition, account):
# SBATCH_PARTITION, SBATCH_ACCOUNT, … are read by sbatch itself.
set -euo pipefail
n="${1:-4}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CAUCE_SHARD_COUNT="$n"
submit() { sbatch --parsable --export=ALL "$@" | cut -d';' -f1; }
etl=$(submit --array=0-$((n - 1)) "$here/etl.sbatch")
etl_merge=$(submit --dependency=afterok:"$etl" "$here/merge.sbatch" etl)
train=$(submit --dependency=afterok:"$etl_merge" "$here/train.sbatch")
inference=$(submit --dependency=afterok:"$train" --array=0-$((n - 1)) "$here/inference.sbatch")
inference_merge=$(submit --dependency=afterok:"$inference" "$here/merge.sbatch" inference)
echo "etl $etl → merge $etl_merge → train $train → inference $inference → merge $inference_merge"

#!/usr/bin/env bash
# Registers Cauce's AWS Batch job definitions and submits the pipeline as
# dependent jobs: ETL array (N children) → merge → training → inference array
# (N children) → merge. Needs the AWS CLI v2 and these variables:
#   CAUCE_IMAGE          the image (deploy/Dockerfile) in ECR, e.g. <account>.dkr.ecr.<region>.amazonaws.com/cauce:0.1.0
#   CAUCE_JOB_ROLE_ARN   an IAM role the jobs assume, with read/write on the bucket
#   CAUCE_S3_ROOT        where the pipeline lives, e.g. s3://my-cauce-bucket
#   CAUCE_JOB_QUEUE      an AWS Batch job queue (EC2 compute environment)
#   deploy/aws-batch/submit.sh 8          # 8 shards
# A failed child of an array is retried (retryStrategy); resubmitting one
# index by hand: submit the job definition with CAUCE_SHARD=I/N set.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
n="${1:-4}"
: "${CAUCE_IMAGE:?}" "${CAUCE_JOB_ROLE_ARN:?}" "${CAUCE_S3_ROOT:?}" "${CAUCE_JOB_QUEUE:?}"
for name in etl etl-merge train inference inference-merge; do
    # The definitions name the image, role and bucket as ${…}: fill them in.
    json="$(sed -e "s|\${CAUCE_IMAGE}|$CAUCE_IMAGE|g" \
        -e "s|\${CAUCE_JOB_ROLE_ARN}|$CAUCE_JOB_ROLE_ARN|g" \
        -e "s|\${CAUCE_S3_ROOT}|$CAUCE_S3_ROOT|g" "$here/$name.json")"
    aws batch register-job-definition --cli-input-json "$json" --query jobDefinitionArn --output text
done
submit() { aws batch submit-job --job-queue "$CAUCE_JOB_QUEUE" --query jobId --output text "$@"; }
# Every child of an array gets CAUCE_SHARD_COUNT; AWS Batch sets AWS_BATCH_JOB_ARRAY_INDEX.
shards=(--array-properties size="$n" --container-overrides "environment=[{name=CAUCE_SHARD_COUNT,value=$n}]")
etl=$(submit --job-name cauce-etl --job-definition cauce-etl "${shards[@]}")
etl_merge=$(submit --job-name cauce-etl-merge --job-definition cauce-etl-merge --depends-on jobId="$etl")
train=$(submit --job-name cauce-train --job-definition cauce-train --depends-on jobId="$etl_merge")
inference=$(submit --job-name cauce-inference --job-definition cauce-inference "${shards[@]}" --depends-on jobId="$train")
inference_merge=$(submit --job-name cauce-inference-merge --job-definition cauce-inference-merge --depends-on jobId="$inference")
echo "etl $etl → merge $etl_merge → train $train → inference $inference → merge $inference_merge"

#!/usr/bin/env bash
# Runs the pipeline on a Kubernetes cluster, stage after stage, with kubectl:
# config → ETL shards → merge → training → inference shards → merge.
#   deploy/kubernetes/run.sh [namespace]
# Build and push the image first (deploy/Dockerfile) and set it in the Jobs
# (image: cauce:0.1.0), and the bucket in locations.yaml.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ns=(--namespace "${1:-default}")
kubectl "${ns[@]}" apply -f "$here/serviceaccount.yaml" -f "$here/locations.yaml" -f "$here/config.yaml"
for stage in etl etl-merge train inference inference-merge; do
    # Jobs are immutable: a rerun replaces the previous one.
    kubectl "${ns[@]}" delete job "cauce-$stage" --ignore-not-found --wait=true
    kubectl "${ns[@]}" apply -f "$here/$stage-job.yaml"
    # Wait for Complete or Failed (kubectl wait would sit out its timeout on a failure).
    while :; do
        state="$(kubectl "${ns[@]}" get job "cauce-$stage" \
            -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}')"
        case "$state" in
            *Complete*) echo "cauce-$stage: complete"; break ;;
            *Failed*)
                kubectl "${ns[@]}" logs "job/cauce-$stage" --tail=50 || true
                echo "run.sh: job cauce-$stage failed" >&2
                exit 1 ;;
        esac
        sleep 10
    done
done

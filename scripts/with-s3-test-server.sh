#!/usr/bin/env bash
# Runs a command with the S3 test server started and its AWS_* settings exported,
# and stops the server afterwards whatever the command's outcome.
#   scripts/with-s3-test-server.sh cargo test --workspace
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
env_lines="$("$here/s3-test-server.sh" start)"
trap '"$here/s3-test-server.sh" stop' EXIT
eval "$env_lines"
# A test that finds no server fails rather than skips (crates/common/src/testing.rs).
export CAUCE_TEST_S3=1
"$@"

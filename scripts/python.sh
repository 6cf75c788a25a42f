#!/usr/bin/env bash
# The cauce Python package (python/, PyO3 + maturin):
#   scripts/python.sh test [PYTEST ARGS]   build it into python/.venv with `maturin
#                                          develop` (debug, sharing the workspace's
#                                          target/) and run python/tests with pytest
#   scripts/python.sh wheel                build the abi3 wheel (release, Python >= 3.10)
#                                          into target/wheels
#   scripts/python.sh develop VENV         build it (debug) into another venv (the
#                                          bench's smoke run)
# python/.venv holds the pinned python/requirements-test.txt (made again when
# it changes). `make test` runs `test` under scripts/with-s3-test-server.sh,
# which the S3 test needs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv="$PWD/python/.venv"
digest="$(sha256sum python/requirements-test.txt | cut -d' ' -f1)"
if [[ ! -f "$venv/requirements.sha256" || "$(cat "$venv/requirements.sha256")" != "$digest" ]]; then
    echo "python: installing python/requirements-test.txt into python/.venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
    echo "$digest" >"$venv/requirements.sha256"
fi
case "${1:-}" in
    test)
        shift
        (cd python && VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop --quiet)
        exec "$venv/bin/python" -m pytest python/tests -q -p no:cacheprovider "$@"
        ;;
    develop)
        target="$(cd "$2" && pwd)"
        (cd python && VIRTUAL_ENV="$target" "$venv/bin/maturin" develop --quiet)
        ;;
    wheel)
        (cd python && "$venv/bin/maturin" build --release --quiet --out "$PWD/../target/wheels")
        ls -1 target/wheels/cauce-*.whl
        ;;
    *)
        echo "usage: $0 test [pytest args] | wheel | develop VENV" >&2
        exit 2
        ;;
esac

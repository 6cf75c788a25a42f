# Cauce — run `make` or `make help` for the list of targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash
CARGO ?= cargo

.PHONY: help build test lint fmt s3-server-start s3-server-stop clean

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

build: ## Build the release binaries
	$(CARGO) build --release --workspace

test: ## Run every test; starts (and stops) a local S3 test server on 127.0.0.1
	scripts/with-s3-test-server.sh $(CARGO) test --workspace

lint: ## Check formatting and run clippy with -D warnings
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

s3-server-start: ## Start the S3 test server; prints the AWS_* exports to eval
	@scripts/s3-test-server.sh start

s3-server-stop: ## Stop the S3 test server
	@scripts/s3-test-server.sh stop

clean: ## Remove build output and generated data (keeps data/raw)
	$(CARGO) clean
	rm -rf data/processed/* data/predictions/* models/versioned/* models/latest/* logs/*.log

# EmoTune's two commands (the README's quick start):
#   make run   install what the service needs (no TensorFlow) and run `emotune` on the embedded defaults
#   make test  install everything the tests need and run the whole suite the way CI does (.ci/run)
# Both are idempotent: each install step runs again only when pyproject.toml (or package-lock.json)
# changed since its stamp, so a second run starts at once. `make fuzz` is a longer property-based
# run of tests/fuzz (the API contract, the image decoders) than the one `make test` includes.
#
# Variables: PYTHON (to create the venv, default python3.11), VENV (default .venv), ARGS (for
# emotune, e.g. make run ARGS="--port 5001"), PYTEST_ARGS (e.g. make test PYTEST_ARGS=tests/service),
# FUZZ_EXAMPLES (make fuzz, default 500),
# STAMPS (where the stamps live, default the venv).

PYTHON ?= python3.11
VENV ?= .venv
STAMPS ?= $(VENV)
BIN := $(VENV)/bin
ARGS ?=
PYTEST_ARGS ?=

.PHONY: run test fuzz services

run: $(STAMPS)/.emotune-service
	@$(BIN)/emotune $(ARGS)

# CI=true: a missing prerequisite (Chromium, data, a server) fails its tests instead of skipping
# them, so a half-prepared machine never looks green. pytest's exit code 5 (no tests) fails too.
test: $(STAMPS)/.emotune-test node_modules/.package-lock.json services
	@test -x /usr/bin/chromium || { apt-get update -qq && apt-get install -y -qq chromium; }
	@test -d ../shared/data/fer2013 -a -f ../shared/data/imagenet/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5 \
		|| { echo "../shared/data (FER2013 and the ImageNet MobileNetV2 weights) is missing beside the checkout: see the README" >&2; exit 1; }
	CI=true $(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
		if [ $$status -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$status

# A longer fuzzing run than the one in `make test` (tests/fuzz, fresh randomness each time):
# FUZZ_EXAMPLES examples per API operation and generation mode, eight times as many per image seed.
FUZZ_EXAMPLES ?= 500
fuzz: $(STAMPS)/.emotune-test services
	EMOTUNE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) CI=true $(BIN)/python -m pytest tests/fuzz $(PYTEST_ARGS)

services:
	.ci/services

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# The service alone: Flask, Celery, LiteRT, gunicorn; TensorFlow is in the "ml" extra only.
$(STAMPS)/.emotune-service: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	@mkdir -p $(@D) && touch $@

# Everything the tests need: the ml and dev extras; then axe-core (npm, for the browser tests;
# npm writes node_modules/.package-lock.json) and Chromium (checked on every run, above).
$(STAMPS)/.emotune-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[ml,dev]"
	@mkdir -p $(@D) && touch $@ $(STAMPS)/.emotune-service

node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund --silent

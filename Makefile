# Thin entry points. The two that matter: `make workshop` (everything, end to end) and `make test`.
# Each target does its own set-up, so either works first on a fresh clone.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup workshop test test-fast lint lab clean

# Chapters that need more than the Python environment (npm packages, Chromium, a converter venv) add
# their own target below and append it here: EXTRA_SETUP += setup-<chapter>
EXTRA_SETUP :=
EXTRA_SETUP += setup-flask
EXTRA_SETUP += setup-tf-serving
EXTRA_SETUP += setup-slides
EXTRA_SETUP += setup-tfjs
EXTRA_SETUP += setup-containers
EXTRA_SETUP += setup-r
EXTRA_SETUP += setup-mlserver
EXTRA_SETUP += setup-monitoring

# Set-up steps run two at a time (pip for .venv beside the TF.js converter's venv, npm, apt); apt-get
# calls take turns through a lock.
setup:
	@$(MAKE) --no-print-directory -j2 setup-steps

.PHONY: setup-steps
setup-steps: $(STAMP) $(EXTRA_SETUP)

SUDO        := $(if $(filter 0,$(shell id -u)),,sudo)
APT_INSTALL := $(SUDO) flock /tmp/nowwhat-apt.lock env DEBIAN_FRONTEND=noninteractive \
  sh -c 'apt-get update -qq && apt-get install -y -qq "$$@" >/dev/null' apt-install

$(STAMP): requirements.txt requirements-nodeps.txt constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-nodeps.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@! $(BIN)/python -m pip show tensorflow >/dev/null 2>&1 || \
	  { echo "error: the full 'tensorflow' wheel got installed next to tensorflow-cpu; see requirements-nodeps.txt"; exit 1; }
	@touch $@

## The workshop's main job: data, model, exports, every notebook executed in order, then a summary.
workshop: setup
	$(BIN)/python -m nowwhat workshop

## The full test suite (what CI runs): unit, contract, notebooks (nbval + papermill), demos, lint. Two
## processes: the tests that share the build folder in one, the notebooks (twice, each run in a build
## folder of its own) in the other (conftest.py).
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --durations=40

## Maintainers' short loop: lint and tests/ without the slow ones (no notebooks, no training, no servers).
test-fast: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest tests -m "not slow" -q

lint: setup
	$(BIN)/ruff check .

lab: setup
	$(BIN)/jupyter lab --ip 127.0.0.1 --notebook-dir notebooks $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

clean:
	rm -rf build

## Browser chapter (demos/tfjs): Debian's Chromium, the demo's npm packages (lockfile), and the TF.js
## converter in its own venv (tensorflowjs pulls tensorflow 2.19, which would break .venv). Stamped.
TFJS_DEMO  := demos/tfjs
TFJS_VENV  := .venv-tfjs

.PHONY: setup-tfjs bench-tfjs

setup-tfjs: /usr/bin/chromium $(TFJS_DEMO)/node_modules/.installed $(TFJS_VENV)/.installed

/usr/bin/chromium:
	$(APT_INSTALL) chromium

# npm packages of a folder with a package-lock.json (demos/tfjs, slides), exactly as locked; stamped.
%/node_modules/.installed: %/package.json %/package-lock.json
	cd $* && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(TFJS_VENV)/.installed: $(TFJS_DEMO)/requirements-convert.txt $(TFJS_DEMO)/constraints-convert.txt
	@test -x $(TFJS_VENV)/bin/python || $(PYTHON) -m venv $(TFJS_VENV)
	$(TFJS_VENV)/bin/python -m pip install --quiet -r $(TFJS_DEMO)/requirements-convert.txt \
	  -c $(TFJS_DEMO)/constraints-convert.txt
	@touch $@

## Page ready time, predictions/s (cpu, webgl), model bytes, accuracy (float32, float16) → build/tfjs;
## also refreshes the screenshot the demo README shows (demos/tfjs/screenshot.png).
bench-tfjs: setup
	$(BIN)/python -m nowwhat tfjs bench --screenshot $(TFJS_DEMO)/screenshot.png $(if $(RECORD),--record)

## Delivery (slides/, images/, binder/): Marp from npm (slides/package-lock.json), graphviz and Chromium
## from Debian (the Chromium rule is shared with setup-tfjs above). Stamped: a second run does nothing.
SLIDES_DIR := slides

.PHONY: setup-slides images slides memory

setup-slides: /usr/bin/chromium /usr/bin/dot $(SLIDES_DIR)/node_modules/.installed

/usr/bin/dot:
	$(APT_INSTALL) graphviz

## Every diagram in images/ from its source in images/src/ (graphviz), each SVG stamped with its source's hash.
images: $(STAMP) /usr/bin/dot
	$(BIN)/python -m nowwhat diagrams build

## The talk: slides/deck.md + figures read from the benchmark results under build/ → build/slides/deck.{html,pdf}.
slides: $(STAMP) setup-slides
	$(BIN)/python -m nowwhat slides build

## Peak memory (kernel process tree) of every notebook, run in order in a fresh build folder → build/memory/.
memory: setup
	$(BIN)/python -m nowwhat notebooks memory

## TF Serving chapter (demos/tf-serving): the demo's Python package (run command, REST and gRPC clients,
## development server) into .venv, --no-deps: everything it needs is already in requirements.txt.
TFS_DEMO := demos/tf-serving

.PHONY: setup-tf-serving serve-tf bench-tf-serving

setup-tf-serving: $(VENV)/.tf-serving-installed

$(VENV)/.tf-serving-installed: $(STAMP) $(TFS_DEMO)/pyproject.toml $(TFS_DEMO)/devserver/pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps -e $(TFS_DEMO)
	$(BIN)/python -m pip install --quiet --no-deps -e $(TFS_DEMO)/devserver
	@touch $@

## Docker's tensorflow/serving, else tensorflow_model_server, else the development server (it says which),
## serving the workshop's two versions (built first if missing); MODEL_DIR overrides.
serve-tf: setup
	@test -n "$(MODEL_DIR)" || test -f $(EXPORT_DIR)/manifest.json || \
	  { $(BIN)/python -m nowwhat train --quiet && $(BIN)/python -m nowwhat export; }
	@test -n "$(MODEL_DIR)" || $(BIN)/python -m nowwhat tf-serving models --if-missing
	PYTHON=$(abspath $(BIN))/python MODEL_DIR=$(or $(MODEL_DIR),$(BUILD_DIR)/tf-serving/models) \
	  $(TFS_DEMO)/run.sh $(RUN_ARGS)

## REST vs gRPC latency (every answer awaited) → build/tf-serving/benchmark.json (RECORD=1: into the demo README).
bench-tf-serving: setup
	$(BIN)/python -m nowwhat tf-serving bench $(if $(RECORD),--record)

## Edge chapter (demos/tflite): size, accuracy on the 1,000 test reviews, agreement with Keras and latency
## per review of every LiteRT quantization level → build/tflite/benchmark.json. Converts first if needed.
.PHONY: bench-tflite

bench-tflite: setup
	$(BIN)/python -m nowwhat tflite bench $(if $(RECORD),--record)

## Flask chapter (demos/flask): wrk, the load generator of its benchmark and load test (Debian package).
.PHONY: setup-flask serve-flask bench-flask

setup-flask: /usr/bin/wrk

/usr/bin/wrk:
	$(APT_INSTALL) wrk

## The production review API (gunicorn, 2 workers) on http://127.0.0.1:5000, serving the workshop's export
## (trained and exported first if missing); HOST, PORT and MODEL_DIR override.
BUILD_DIR = $(or $(NOWWHAT_BUILD),$(CURDIR)/build)
EXPORT_DIR = $(BUILD_DIR)/export

serve-flask: setup
	@test -n "$(MODEL_DIR)" || test -f $(EXPORT_DIR)/manifest.json || \
	  { $(BIN)/python -m nowwhat train --quiet && $(BIN)/python -m nowwhat export; }
	cd demos/flask && MODEL_DIR=$(or $(MODEL_DIR),$(EXPORT_DIR)) $(abspath $(BIN))/gunicorn -c gunicorn.conf.py

## Naive 2019 app vs gunicorn app at concurrency 1, 8, 32 (wrk) + in-process ceiling → build/flask/benchmark.{json,png}.
bench-flask: setup
	$(BIN)/python -m nowwhat flask bench $(if $(RECORD),--record)

## Open Inference Protocol chapter (demos/mlserver): MLServer in its own venv (it needs protobuf < 7,
## the TensorFlow environment has 7), with ONNX Runtime for the model and the demo's test packages.
MLSERVER_DEMO := demos/mlserver
MLSERVER_VENV := .venv-mlserver
.PHONY: setup-mlserver

setup-mlserver: $(MLSERVER_VENV)/.installed

$(MLSERVER_VENV)/.installed: $(MLSERVER_DEMO)/requirements.txt $(MLSERVER_DEMO)/requirements-test.txt \
  $(MLSERVER_DEMO)/constraints.txt
	@test -x $(MLSERVER_VENV)/bin/python || $(PYTHON) -m venv $(MLSERVER_VENV)
	$(MLSERVER_VENV)/bin/python -m pip install --quiet -r $(MLSERVER_DEMO)/requirements-test.txt \
	  -c $(MLSERVER_DEMO)/constraints.txt
	@touch $@

## Adaptive batching off and on at 1, 8, 32 clients → build/mlserver/batching.json; RECORD=1 also rewrites
## the table demos/mlserver/README.md shows.
.PHONY: bench-mlserver
bench-mlserver: setup
	$(BIN)/python -m nowwhat mlserver bench $(if $(RECORD),--record)

## R client (demos/r-client): Debian's R with httr and jsonlite, which its tests and the suite's call.
.PHONY: setup-r

setup-r: /usr/bin/Rscript

/usr/bin/Rscript:
	$(APT_INSTALL) r-base-core r-cran-httr r-cran-jsonlite

## Monitoring chapter (demos/monitoring): Debian's Prometheus, which brings promtool.
.PHONY: setup-monitoring

setup-monitoring: /usr/bin/prometheus

/usr/bin/prometheus:
	$(APT_INSTALL) prometheus

## Containers (demos/flask/Dockerfile built and run for real): Docker if its engine answers, else Debian's
## podman (with runc) and mmdebstrap, which makes a labelled local stand-in base image when no registry
## is reachable. `make container-check` builds, runs and checks the image → build/containers/flask.json;
## RECORD=1 also rewrites the figures demos/flask/README.md shows (demos/flask/container-check.json).
.PHONY: setup-containers container-check

setup-containers:
	@docker info >/dev/null 2>&1 || { command -v podman && command -v mmdebstrap; } >/dev/null || \
	  $(APT_INSTALL) podman runc mmdebstrap

container-check: setup
	$(BIN)/python -m nowwhat flask container-check $(if $(RECORD),--record)

## Binder under its real cap (binder/README.md): an image built from binder/ alone with podman (a labelled
## local stand-in for repo2docker's, which cannot build here), run with 2 GiB of memory and swap, every
## notebook executed through the Jupyter server inside it, the TF.js page opened through its proxy
## → build/binder/check.json. RECORD=1 keeps the run in binder/check.json and binder/README.md's table.
## A maintainer's check, not part of `make test`: the image build downloads about 2 GB from the registries.
.PHONY: binder-check

binder-check: setup setup-containers setup-tfjs
	$(BIN)/python -m pip install --quiet -c constraints.txt repo2podman
	$(BIN)/python -m nowwhat notebooks binder-check $(if $(RECORD),--record)

## Compare and choose: one harness measures every runtime on the same reviews in one run (cold start,
## latency p50/p99, throughput at concurrency 8, size, peak memory, accuracy, parity) → build/compare/.
## `make bench` also runs each chapter's own benchmark first.
.PHONY: bench bench-compare

bench-compare: setup
	$(BIN)/python -m nowwhat compare bench

bench: bench-flask bench-tf-serving bench-tfjs bench-tflite bench-mlserver bench-compare

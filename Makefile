# Everything the project needs is installed from here; `make test` and `make run` are the two entry points.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install test lint typecheck run index bench calibrate train-reader browser clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# llama-cpp-python (a dev extra) compiles llama.cpp; pip caches the wheel in ~/.cache/pip, so only
# the first install on a machine takes minutes. Build for x86-64-v3, not -march=native: some
# virtual machines report AMX and AVX512-BF16 that they do not enable (the server dies of SIGILL).
ifeq ($(shell uname -m),x86_64)
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
endif

# constraints.txt pins every package to the versions CI tested (`make lock` refreshes it).
# $(STAMP): what running needs (`make run`); $(DEV_STAMP): the development extras as well
# (`make test`, the benchmarks), among them llama-cpp-python, which compiles llama.cpp.
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt torch==2.13.0
	$(BIN)/pip install --quiet -c constraints.txt -e .
	$(BIN)/python -c 'from assistant.matcher import prepare; prepare()'
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(DEV_STAMP)

install: $(DEV_STAMP)

# Resolve pyproject.toml afresh in a scratch venv and pin what it gets.
lock:
	rm -rf build/lock-venv
	$(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/pip install --quiet --upgrade pip
	build/lock-venv/bin/pip install --quiet torch==2.13.0
	build/lock-venv/bin/pip install --quiet '.[dev]'
	echo '# Exact versions CI tested; `make lock` refreshes them from a fresh resolve of pyproject.toml.' > constraints.txt
	build/lock-venv/bin/pip freeze --exclude-editable | grep -v '^assistant' >> constraints.txt
	rm -rf build/lock-venv

# Debian's Chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
	fi

lint: install
	$(BIN)/ruff check assistant tests benchmarks app.py
	$(BIN)/ruff format --check assistant tests benchmarks app.py

typecheck: install
	$(BIN)/mypy

test: install browser lint typecheck
	$(BIN)/pytest

index/chroma.sqlite3: | $(STAMP)
	$(BIN)/assistant ingest articles/

index: index/chroma.sqlite3

run: $(STAMP) index
	$(BIN)/streamlit run app.py --server.headless true --browser.gatherUsageStats false --client.toolbarMode minimal --server.fileWatcherType none

# Benchmarks print numbers; they are not tests. The README quotes their output.
# The news benchmark keeps its indexes in build/ (about 20 to 26 minutes to build each split once).
bench: install browser
	$(BIN)/python benchmarks/core.py
	$(BIN)/python benchmarks/squad.py
	$(BIN)/python benchmarks/news.py --split odd
	$(BIN)/python benchmarks/news.py --split even
	$(BIN)/python benchmarks/news.py --year 2024 --split even --weeks 6
	$(BIN)/python benchmarks/news_loss.py --split even
	$(BIN)/python benchmarks/app_latency.py
	ASSISTANT_EMBEDDING_BACKEND=onnx-int8 $(BIN)/python benchmarks/page_libraries.py 10 1000 7500
	$(BIN)/python benchmarks/page_scale.py --sizes 10,1000,7500 --crowd 10,20
	$(BIN)/python benchmarks/page_assistants.py
	$(BIN)/python benchmarks/verify_claims.py
	$(BIN)/python benchmarks/concurrency.py
	$(BIN)/python benchmarks/support_floor.py
	$(BIN)/python benchmarks/backends.py
	$(BIN)/python benchmarks/server_load.py
	$(BIN)/python benchmarks/scale.py --sizes 10000,50000,all

calibrate: install
	$(BIN)/python benchmarks/calibrate.py --write

# Retrain the answer reader (assistant/reader/) from ../shared data; then `make calibrate`.
train-reader: install
	$(BIN)/python benchmarks/train_reader.py --write
	$(BIN)/python benchmarks/calibrate.py --write

clean:
	rm -rf $(VENV) build index/chroma.sqlite3 index/*/ index/manifest.json

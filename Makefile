# Everything the project needs is installed from here; `make test` and `make run` are the two entry points.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install test lint typecheck run index bench calibrate browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

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

index/chroma.sqlite3: | install
	$(BIN)/assistant ingest articles/

index: index/chroma.sqlite3

run: install index
	$(BIN)/streamlit run app.py --server.headless true --browser.gatherUsageStats false --client.toolbarMode minimal

# Benchmarks print numbers; they are not tests. The README quotes their output.
# The news benchmark keeps its indexes in build/ (about 15 minutes to build each split once).
bench: install browser
	$(BIN)/python benchmarks/core.py
	$(BIN)/python benchmarks/squad.py
	$(BIN)/python benchmarks/news.py --split odd
	$(BIN)/python benchmarks/news.py --split even
	$(BIN)/python benchmarks/app_latency.py

calibrate: install
	$(BIN)/python benchmarks/calibrate.py --write

clean:
	rm -rf $(VENV) build index/chroma.sqlite3 index/*/ index/manifest.json

# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_LLM := $(VENV)/.installed-local-llm

.PHONY: demo test install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# llama-cpp-python compiles once (~4 min on 2 cores); pip caches the wheel afterwards.
$(LOCAL_LLM): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,local-llm]'
	touch $(LOCAL_LLM)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/leadflow demo

test: $(LOCAL_LLM)
	$(BIN)/ruff check leadflow tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q
	$(BIN)/pytest -q -m "reliability or local_llm"

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) .leadflow .pytest_cache .mypy_cache .ruff_cache

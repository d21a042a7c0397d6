# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv (with the project
# installed in editable mode and the test extras) the first time.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready

# Real MNIST raw files for the integration tests, when the shared folder exists.
export TINYTORCH_MNIST_RAW ?= $(abspath $(wildcard ../shared/data/mnist))

.PHONY: demo test bench milestones clean

$(READY): setup.py setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(READY)

demo: $(READY)
	$(PY) -m tinytorch.data.demo

test: $(READY)
	$(PY) -m pytest -q

bench: $(READY)
	$(PY) benchmarks/bench_loader.py

clean:
	rm -rf $(VENV) build dist *.egg-info

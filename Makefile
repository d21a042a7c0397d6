# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv (the project installed in
# editable mode, with the test extras) the first time, from nothing but python3 and PyPI.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
READY := $(VENV)/.ready

# Real MNIST and Fashion-MNIST raw files for the integration tests, when the shared folders are beside the clone.
export TINYTORCH_MNIST_RAW ?= $(abspath $(wildcard ../shared/data/mnist))
export TINYTORCH_FASHION_MNIST_RAW ?= $(abspath $(wildcard ../shared/data/fashion-mnist))

.PHONY: demo test torch parity bench milestones grade clean

$(READY): setup.py setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(READY)

# The main job: a first model trained through the DataLoader on the shipped TinyDigits, offline, in seconds.
demo: $(READY)
	$(PY) milestones/03_1986_mlp/01_rumelhart_tinydigits.py --check

# Without torch the parity tests (compared with torch or torchvision) are skipped; the last lines say how many,
# and which real-data tests were skipped. -rfE: the short summary lists failures and errors only.
test: $(READY)
	$(PY) -m pytest -q -rfE

# The parity tests too: torch (CPU) and torchvision into .venv (tests/torch_reference.py), then the whole suite.
torch: $(READY)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet --no-deps torchvision==0.28.0
	cd tests && ../$(PY) -c "import torch_reference as r; assert r.torchvision_or_none(), 'torchvision does not import'"

parity: torch
	$(PY) -m pytest -q -rfEs

bench: $(READY)
	$(PY) benchmarks/bench_loader.py
	$(PY) benchmarks/bench_workers.py
	$(PY) benchmarks/bench_datasets.py
	$(PY) benchmarks/bench_folder.py
	$(PY) benchmarks/bench_image_transforms.py

milestones: $(READY)
	$(PY) milestones/03_1986_mlp/01_rumelhart_tinydigits.py --check
	$(PY) milestones/04_1998_cnn/01_lecun_tinydigits.py --check
	$(PY) milestones/05_2017_transformer/01_vaswani_tinytalks.py --check
	@echo "The next three download MNIST (~11 MB), Fashion-MNIST (~30 MB) and CIFAR-10 (~163 MB) on first use:"
	$(PY) milestones/03_1986_mlp/02_rumelhart_mnist.py --check
	$(PY) milestones/03_1986_mlp/03_rumelhart_fashion_mnist.py --check
	$(PY) milestones/04_1998_cnn/02_lecun_cifar10.py --check

# Course module 08: grade the student's modules/08_dataloader/dataloader.py (or FILE=path, a .py or an .ipynb)
# against tinytorch.data.
grade: $(READY)
	$(PY) -m tinytorch.grade 08_dataloader $(FILE)

# Course module 08 as a notebook: JupyterLab and jupytext (the dev extra) into .venv once, the .ipynb made from the
# .py (or the older of the two brought up to date), then JupyterLab, where jupytext keeps both files paired.
.PHONY: notebook
notebook: $(VENV)/.dev
	$(PY) -m jupytext --sync modules/08_dataloader/dataloader.py
	$(PY) -m jupyter lab modules/08_dataloader/dataloader.ipynb

$(VENV)/.dev: $(READY) setup.cfg
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,dev]'
	touch $(VENV)/.dev

clean:
	rm -rf $(VENV) build dist *.egg-info

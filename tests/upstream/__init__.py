"""The conformance suite: PyTorch's and torchvision's own tests, ported to NumPy (see conftest.py). A package, so that
its modules, conftest included, have names of their own (upstream.*) beside tests/conftest.py."""

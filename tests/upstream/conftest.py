"""The conformance suite: PyTorch's test/test_dataloader.py and torchvision's transform and folder tests, ported to
NumPy and run against tinytorch.data as a user moving torch code over would run them.

Every test here carries the `upstream` marker. A test that cannot pass on purpose is
`xfail(strict=True, reason="README Differences: <row>")`; one that shows a bug is
`xfail(strict=True, reason="BUG: <what differs>")` (`pytest -rx tests/upstream` lists both kinds). Both are
strict: a fix makes the test pass, pytest reports XPASS as a failure, and the marker has to go."""
import pytest


# Upstream's tests start 4 workers on any machine; torch's warning about more workers than cores is expected here
# (test_excessive_thread_creation_warning still sees it: pytest.warns records every warning).
MORE_WORKERS_THAN_CORES = "ignore:This DataLoader will create .* worker processes in total:UserWarning"


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "upstream" in item.nodeid.split("::")[0].split("/"):
            item.add_marker(pytest.mark.upstream)
            item.add_marker(pytest.mark.filterwarnings(MORE_WORKERS_THAN_CORES))


def pytest_configure(config):
    config.addinivalue_line("markers", "upstream: a test ported from PyTorch's or torchvision's own test suite")

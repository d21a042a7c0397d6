"""Shared fixtures. `loopback`: an HTTP server on 127.0.0.1 for download tests (see tests/http_server.py)."""
import pytest

from http_server import LoopbackServer
from tinytorch.data import download


@pytest.fixture
def loopback():
    server = LoopbackServer()
    yield server
    server.close()


@pytest.fixture
def fast_retries(monkeypatch):
    """Short timeouts and backoff, so fault tests take milliseconds, not the real defaults' seconds."""
    monkeypatch.setattr(download, "TIMEOUT", 2.0)
    monkeypatch.setattr(download, "BACKOFF", 0.01)
    monkeypatch.setattr(download, "RETRIES", 2)


@pytest.fixture
def isolated_cache(monkeypatch, tmp_path):
    """Point the default dataset root at a fresh temporary folder (never ~/.cache) and clear mirror overrides."""
    monkeypatch.setenv("TINYTORCH_DATA", str(tmp_path / "default-root"))
    monkeypatch.delenv("TINYTORCH_MNIST_MIRRORS", raising=False)

"""torch and torchvision as optional references for parity tests and benchmarks (never a dependency of the library).

torchvision's wheel here is built for CUDA torch; beside the CPU torch build its import fails while registering C ops
(nms and the like) that no transform or dataset uses. `torchvision_or_none` lets those registrations pass.
Install with `.venv/bin/pip install torch==2.13.0` and `.venv/bin/pip install --no-deps torchvision==0.28.0`.
"""
from __future__ import annotations


def torch_or_none():
    """The torch module, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def torchvision_or_none():
    """The torchvision module (imported beside the CPU torch build), or None when either is missing."""
    torch = torch_or_none()
    if torch is None:
        return None
    original = torch.library.register_fake

    def tolerant(op, *args, **kwargs):
        decorator = original(op, *args, **kwargs)
        if args or not callable(decorator):
            return decorator

        def register(function):
            try:
                return decorator(function)
            except RuntimeError:  # an op of torchvision's C library, absent beside the CPU torch build
                return function

        return register

    torch.library.register_fake = tolerant
    try:
        import torchvision
    except ImportError:
        return None
    finally:
        torch.library.register_fake = original
    return torchvision

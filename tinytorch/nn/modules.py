"""Layers: callables that hold their parameters as Tensors, with PyTorch's names, shapes and initialisation."""
from __future__ import annotations

import math

import numpy as np

from . import functional as F
from .tensor import Tensor

_generator = np.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Seed the generator that initialises every parameter created afterwards (like torch.manual_seed)."""
    global _generator
    _generator = np.random.default_rng(seed)


def parameter(shape, bound: float) -> Tensor:
    """A float32 Tensor requiring grad, uniform in [-bound, bound] (PyTorch's default for Linear and Conv2d)."""
    return Tensor(_generator.uniform(-bound, bound, size=shape).astype(np.float32), requires_grad=True)


class Module:
    """A layer: `forward` computes, `parameters()` finds every Tensor requiring grad in attributes and sub-layers."""

    def __call__(self, *args):
        return self.forward(*args)

    def parameters(self) -> list[Tensor]:
        found = []
        for value in vars(self).values():
            for item in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(item, Module):
                    found.extend(item.parameters())
                elif isinstance(item, Tensor) and item.requires_grad:
                    found.append(item)
        return found


class Sequential(Module):
    def __init__(self, *layers: Module):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class Linear(Module):
    """x (..., in_features) -> x @ weight + bias (..., out_features); weight is stored (in, out)."""

    def __init__(self, in_features: int, out_features: int):
        bound = 1 / math.sqrt(in_features)
        self.weight = parameter((in_features, out_features), bound)
        self.bias = parameter((out_features,), bound)

    def forward(self, x: Tensor) -> Tensor:
        return x @ self.weight + self.bias


class ReLU(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Flatten(Module):
    """(N, ...) -> (N, prod(...)): from feature maps to the input of a Linear."""

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], -1)


class Conv2d(Module):
    """(N, in_channels, H, W) -> (N, out_channels, H', W') with square kernels; see `functional.conv2d`."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0):
        bound = 1 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.weight = parameter((out_channels, in_channels, kernel_size, kernel_size), bound)
        self.bias = parameter((out_channels,), bound)
        self.stride, self.padding = stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


class MaxPool2d(Module):
    def __init__(self, kernel_size: int, stride: int | None = None):
        self.kernel_size, self.stride = kernel_size, stride

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride)


class Embedding(Module):
    """int indices (...) -> rows of a (num_embeddings, dim) table (..., dim), initialised N(0, 1) as in PyTorch."""

    def __init__(self, num_embeddings: int, dim: int):
        self.weight = Tensor(_generator.standard_normal((num_embeddings, dim)).astype(np.float32), requires_grad=True)

    def forward(self, indices) -> Tensor:
        return F.embedding(indices, self.weight)


class LayerNorm(Module):
    def __init__(self, dim: int, eps: float = 1e-5):
        self.weight = Tensor(np.ones(dim, dtype=np.float32), requires_grad=True)
        self.bias = Tensor(np.zeros(dim, dtype=np.float32), requires_grad=True)
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return F.layer_norm(x, self.weight, self.bias, self.eps)


class CausalSelfAttention(Module):
    """Multi-head self-attention where position t sees only positions <= t: x (B, T, dim) -> (B, T, dim)."""

    def __init__(self, dim: int, heads: int):
        if dim % heads:
            raise ValueError(f"dim must be divisible by heads, got dim={dim} and heads={heads}")
        self.heads = heads
        self.query, self.key, self.value = Linear(dim, dim), Linear(dim, dim), Linear(dim, dim)
        self.proj = Linear(dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        b, t, dim = x.shape
        size = dim // self.heads

        def split(y):  # (B, T, dim) -> (B, heads, T, size)
            return y.reshape(b, t, self.heads, size).transpose(0, 2, 1, 3)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        future = np.triu(np.full((t, t), -np.inf, dtype=x.data.dtype), k=1)
        weights = F.softmax(q @ k.transpose(0, 1, 3, 2) * (1 / math.sqrt(size)) + future)
        return self.proj((weights @ v).transpose(0, 2, 1, 3).reshape(b, t, dim))

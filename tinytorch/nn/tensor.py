"""A NumPy array with reverse-mode autograd: micrograd's idea, one array per node instead of one scalar.

Every operation returns a new `Tensor` that remembers its parents and a `_backward(grad)` function giving
one gradient per parent. `loss.backward()` visits the graph in reverse topological order and accumulates
`.grad` (same shape and dtype as `.data`) on every tensor that requires it. Heavy operations (convolution,
pooling, softmax, layer norm, cross-entropy) live in `functional.py` with hand-written backward passes.
"""
from __future__ import annotations

import numpy as np


class Tensor:
    """`data` is any NumPy array; `grad` is filled by `backward()` when `requires_grad` is set."""

    def __init__(self, data, requires_grad: bool = False):
        self.data = np.asarray(data)
        self.requires_grad = requires_grad
        self.grad = None
        self._parents: tuple[Tensor, ...] = ()
        self._backward = None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    def __repr__(self):
        return f"Tensor(shape={self.shape}, dtype={self.data.dtype}, requires_grad={self.requires_grad})"

    def backward(self, grad=None):
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`; `grad` defaults to ones (a scalar loss)."""
        order, seen, stack = [], set(), [(self, False)]
        while stack:  # iterative depth-first search: deep graphs must not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node._parents)
        self.grad = np.ones_like(self.data) if grad is None else np.asarray(grad, dtype=self.data.dtype)
        for node in reversed(order):
            if node._backward is None or node.grad is None:
                continue
            for parent, parent_grad in zip(node._parents, node._backward(node.grad)):
                if parent.requires_grad:
                    parent.grad = parent_grad if parent.grad is None else parent.grad + parent_grad

    def __add__(self, other):
        other = as_tensor(other, self.data.dtype)
        return make(self.data + other.data, (self, other),
                    lambda g: (unbroadcast(g, self.shape), unbroadcast(g, other.shape)))

    def __mul__(self, other):
        other = as_tensor(other, self.data.dtype)
        return make(self.data * other.data, (self, other),
                    lambda g: (unbroadcast(g * other.data, self.shape), unbroadcast(g * self.data, other.shape)))

    def __matmul__(self, other):
        a, b = self.data, other.data

        def backward(g):
            grad_a = g @ np.swapaxes(b, -1, -2)
            if b.ndim == 2:  # a weight shared by every leading index of a: one big matmul, no batched temporaries
                grad_b = a.reshape(-1, a.shape[-1]).T @ g.reshape(-1, g.shape[-1])
            else:
                grad_b = np.swapaxes(a, -1, -2) @ g
            return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)

        return make(a @ b, (self, other), backward)

    def reshape(self, *shape):
        return make(self.data.reshape(*shape), (self,), lambda g: (g.reshape(self.shape),))

    def transpose(self, *axes):
        inverse = np.argsort(axes)
        return make(self.data.transpose(*axes), (self,), lambda g: (g.transpose(*inverse),))

    def relu(self):
        positive = self.data > 0
        return make(self.data * positive, (self,), lambda g: (g * positive,))


def as_tensor(value, dtype) -> Tensor:
    """`value` itself if it is a Tensor, else a constant Tensor of `dtype` holding it (a Python float must not
    turn float32 activations into float64)."""
    return value if isinstance(value, Tensor) else Tensor(np.asarray(value, dtype=dtype))


def make(data: np.ndarray, parents: tuple[Tensor, ...], backward) -> Tensor:
    """The Tensor `data` computed from `parents`; `backward(grad)` returns one gradient per parent.

    The graph is only recorded when some parent requires a gradient, so inference builds nothing.
    """
    out = Tensor(data)
    if any(parent.requires_grad for parent in parents):
        out.requires_grad = True
        out._parents = parents
        out._backward = backward
    return out


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum `grad` over the axes that broadcasting added or stretched, back to `shape`."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape)))) if grad.ndim > len(shape) else grad
    stretched = tuple(axis for axis, size in enumerate(shape) if size == 1 and grad.shape[axis] != 1)
    return grad.sum(axis=stretched, keepdims=True) if stretched else grad

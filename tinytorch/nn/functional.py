"""The operations with hand-written backward passes: fused where the chain rule through small ops would be slow
or numerically fragile. Image tensors are NCHW, as in PyTorch."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .tensor import Tensor, make


def conv2d(x: Tensor, weight: Tensor, bias: Tensor, stride: int = 1, padding: int = 0) -> Tensor:
    """2-D cross-correlation: x (N, C, H, W), weight (F, C, kh, kw), bias (F,) -> (N, F, H', W').

    im2col: every receptive field becomes a row of a (N*H'*W', C*kh*kw) matrix, so the whole layer is one BLAS
    matmul forward and two backward; the backward scatters the rows back with one strided add per kernel offset.
    """
    n, c, h, w = x.shape
    f, _, kh, kw = weight.shape
    padded = np.pad(x.data, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    out_h, out_w = windows.shape[2:4]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * out_h * out_w, c * kh * kw)
    kernel = weight.data.reshape(f, -1)
    out = (cols @ kernel.T + bias.data).reshape(n, out_h, out_w, f).transpose(0, 3, 1, 2)

    def backward(g):
        g = g.transpose(0, 2, 3, 1).reshape(-1, f)
        grad_cols = (kernel.T @ g.T).reshape(c, kh, kw, n, out_h, out_w)  # each offset's slice is contiguous
        grad_padded = np.zeros_like(padded)
        for i in range(kh):
            for j in range(kw):
                grad_padded[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] += (
                    grad_cols[:, i, j].transpose(1, 0, 2, 3))
        grad_x = grad_padded[:, :, padding:padding + h, padding:padding + w]
        return grad_x, (g.T @ cols).reshape(weight.shape), g.sum(axis=0)

    return make(out, (x, weight, bias), backward)


def max_pool2d(x: Tensor, kernel_size: int, stride: int | None = None) -> Tensor:
    """The maximum of each kernel_size x kernel_size window: (N, C, H, W) -> (N, C, H', W'); the gradient goes to
    the first maximum of each window."""
    stride = stride or kernel_size
    n, c, h, w = x.shape
    windows = sliding_window_view(x.data, (kernel_size, kernel_size), axis=(2, 3))[:, :, ::stride, ::stride]
    out_h, out_w = windows.shape[2:4]
    windows = windows.reshape(n, c, out_h, out_w, kernel_size * kernel_size)
    winner = windows.argmax(axis=-1)
    out = np.take_along_axis(windows, winner[..., None], axis=-1)[..., 0]

    def backward(g):
        grad_x = np.zeros_like(x.data)
        for k in range(kernel_size * kernel_size):
            i, j = divmod(k, kernel_size)
            grad_x[:, :, i:i + stride * out_h:stride, j:j + stride * out_w:stride] += g * (winner == k)
        return (grad_x,)

    return make(out, (x,), backward)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(x) normalised to sum to 1 along `axis`; -inf entries get probability 0 (how attention masks)."""
    e = np.exp(x.data - x.data.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    return make(p, (x,), lambda g: (p * (g - (g * p).sum(axis=axis, keepdims=True)),))


def layer_norm(x: Tensor, weight: Tensor, bias: Tensor, eps: float = 1e-5) -> Tensor:
    """Normalise the last axis to zero mean and unit variance, then scale by weight and shift by bias (both (D,))."""
    mean = x.data.mean(axis=-1, keepdims=True)
    inv_std = 1.0 / np.sqrt(x.data.var(axis=-1, keepdims=True) + eps)
    x_hat = (x.data - mean) * inv_std

    def backward(g):
        axes = tuple(range(g.ndim - 1))
        g_hat = g * weight.data
        grad_x = inv_std * (g_hat - g_hat.mean(axis=-1, keepdims=True)
                            - x_hat * (g_hat * x_hat).mean(axis=-1, keepdims=True))
        return grad_x, (g * x_hat).sum(axis=axes), g.sum(axis=axes)

    return make(x_hat * weight.data + bias.data, (x, weight, bias), backward)


def embedding(indices, weight: Tensor) -> Tensor:
    """Rows of weight (V, D) at integer `indices` of any shape -> (*indices.shape, D)."""
    indices = np.asarray(indices)

    def backward(g):
        grad = np.zeros_like(weight.data)
        np.add.at(grad, indices.reshape(-1), g.reshape(-1, weight.shape[1]))
        return (grad,)

    return make(weight.data[indices], (weight,), backward)


def cross_entropy(logits: Tensor, targets) -> Tensor:
    """Mean negative log-likelihood of int `targets` (N,) under softmax(logits) (N, K): a scalar Tensor."""
    targets = np.asarray(targets)
    n = len(targets)
    shifted = logits.data - logits.data.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), targets].mean()

    def backward(g):
        grad = np.exp(log_probs)
        grad[np.arange(n), targets] -= 1
        return (grad * (g / n),)

    return make(np.asarray(loss, dtype=logits.data.dtype), (logits,), backward)

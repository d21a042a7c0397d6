"""Optimizers: update every parameter in place from its `.grad`, as torch.optim does."""
from __future__ import annotations

import numpy as np


class Optimizer:
    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("params must hold at least one Tensor, got an empty sequence")
        if lr <= 0:
            raise ValueError(f"lr must be positive, got {lr!r}")
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None


class SGD(Optimizer):
    """v = momentum * v + grad (+ weight_decay * p);  p -= lr * v."""

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        for p, v in zip(self.params, self.velocity):
            if p.grad is None:
                continue
            v *= self.momentum
            v += p.grad + self.weight_decay * p.data
            p.data -= self.lr * v


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): per-parameter steps from bias-corrected running moments of the gradient."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        self.betas, self.eps, self.steps = betas, eps, 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        self.steps += 1
        beta1, beta2 = self.betas
        for p, m, v in zip(self.params, self.m, self.v):
            if p.grad is None:
                continue
            m += (1 - beta1) * (p.grad - m)
            v += (1 - beta2) * (p.grad * p.grad - v)
            m_hat, v_hat = m / (1 - beta1 ** self.steps), v / (1 - beta2 ** self.steps)
            p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)

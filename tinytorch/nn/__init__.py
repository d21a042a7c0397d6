"""tinytorch.nn: the small NumPy model kit the milestones train with (autograd Tensor, layers, losses, optimizers).

It is kept apart from tinytorch.data, which never imports it.
"""
from . import functional
from .modules import (CausalSelfAttention, Conv2d, Embedding, Flatten, LayerNorm, Linear, MaxPool2d, Module, ReLU,
                      Sequential, manual_seed)
from .optim import SGD, Adam
from .tensor import Tensor

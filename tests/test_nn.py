"""The model kit of the milestones: every backward pass against central finite differences (float64, small shapes),
forward passes against direct loops, and the optimizers against their update formulas."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinytorch import nn
from tinytorch.nn import functional as F
from tinytorch.nn.tensor import Tensor


def leaf(rng, *shape, low=-1.0, high=1.0):
    return Tensor(rng.uniform(low, high, size=shape), requires_grad=True)


def check_gradients(f, *inputs, eps=1e-6, rtol=1e-5, atol=1e-8):
    """Compare backward() of f(*inputs), seeded with a random upstream gradient, to central differences."""
    for tensor in inputs:
        tensor.grad = None
    out = f(*inputs)
    upstream = np.random.default_rng(99).standard_normal(out.shape)
    out.backward(upstream)
    for position, tensor in enumerate(inputs):
        numeric = np.zeros_like(tensor.data)
        for index in np.ndindex(tensor.shape):
            saved = tensor.data[index]
            tensor.data[index] = saved + eps
            plus = np.sum(f(*inputs).data * upstream)
            tensor.data[index] = saved - eps
            minus = np.sum(f(*inputs).data * upstream)
            tensor.data[index] = saved
            numeric[index] = (plus - minus) / (2 * eps)
        np.testing.assert_allclose(tensor.grad, numeric, rtol=rtol, atol=atol, err_msg=f"input {position}")


def double(module):
    """The module with float64 parameters, so finite differences are accurate."""
    for p in module.parameters():
        p.data = p.data.astype(np.float64)
    return module


@pytest.mark.parametrize("shape_a, shape_b", [((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1), (1, 3)), ((4,), ())])
def test_add_and_mul_gradients_sum_over_broadcast_axes(shape_a, shape_b):
    rng = np.random.default_rng(0)
    a, b = leaf(rng, *shape_a), leaf(rng, *shape_b)
    check_gradients(lambda a, b: a + b, a, b)
    check_gradients(lambda a, b: a * b, a, b)


@pytest.mark.parametrize("shape_a, shape_b", [((3, 4), (4, 2)), ((2, 3, 4), (4, 5)), ((2, 2, 3, 4), (2, 2, 4, 3))])
def test_matmul_gradients(shape_a, shape_b):
    rng = np.random.default_rng(1)
    check_gradients(lambda a, b: a @ b, leaf(rng, *shape_a), leaf(rng, *shape_b))


def test_reshape_transpose_relu_gradients():
    rng = np.random.default_rng(2)
    x = Tensor(rng.choice([-1, 1], size=(2, 3, 4)) * rng.uniform(0.1, 1, size=(2, 3, 4)), requires_grad=True)
    check_gradients(lambda x: x.transpose(2, 0, 1).reshape(4, 6).relu(), x)


def test_a_tensor_used_twice_accumulates_both_gradients():
    x = Tensor(np.array([3.0]), requires_grad=True)
    (x * x + x).backward()
    assert x.grad.tolist() == [7.0]


def test_no_graph_is_recorded_without_requires_grad_and_python_scalars_keep_float32():
    x = Tensor(np.ones((2, 2), dtype=np.float32))
    y = x * 0.5 + 1.0
    assert not y.requires_grad and y._parents == () and y.data.dtype == np.float32


def naive_conv2d(x, w, b, stride, padding):
    n, c, h, width = x.shape
    f, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h, out_w = (h + 2 * padding - kh) // stride + 1, (width + 2 * padding - kw) // stride + 1
    out = np.zeros((n, f, out_h, out_w))
    for i in range(out_h):
        for j in range(out_w):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


@settings(max_examples=12, deadline=None)
@given(kernel=st.integers(1, 3), stride=st.integers(1, 2), padding=st.integers(0, 2), size=st.integers(3, 6),
       seed=st.integers(0, 2**16))
def test_conv2d_matches_direct_loops_and_finite_differences(kernel, stride, padding, size, seed):
    rng = np.random.default_rng(seed)
    x, w, b = leaf(rng, 2, 2, size, size + 1), leaf(rng, 3, 2, kernel, kernel), leaf(rng, 3)
    out = F.conv2d(x, w, b, stride, padding)
    np.testing.assert_allclose(out.data, naive_conv2d(x.data, w.data, b.data, stride, padding), rtol=1e-12)
    check_gradients(lambda x, w, b: F.conv2d(x, w, b, stride, padding), x, w, b)


@pytest.mark.parametrize("kernel, stride", [(2, None), (3, 1), (2, 1), (3, 2)])
def test_max_pool2d_matches_direct_loops_and_finite_differences(kernel, stride):
    rng = np.random.default_rng(3)
    x = Tensor(rng.permutation(2 * 2 * 5 * 6).reshape(2, 2, 5, 6) / 10.0, requires_grad=True)  # no ties
    out = F.max_pool2d(x, kernel, stride)
    s = stride or kernel
    expected = np.array([[[[x.data[n, c, i * s:i * s + kernel, j * s:j * s + kernel].max()
                            for j in range(out.shape[3])] for i in range(out.shape[2])]
                          for c in range(2)] for n in range(2)])
    assert out.shape == (2, 2, (5 - kernel) // s + 1, (6 - kernel) // s + 1)
    np.testing.assert_array_equal(out.data, expected)
    check_gradients(lambda x: F.max_pool2d(x, kernel, stride), x)


def test_softmax_rows_sum_to_one_and_gradients():
    rng = np.random.default_rng(4)
    x = leaf(rng, 3, 5, low=-3, high=3)
    np.testing.assert_allclose(F.softmax(x).data.sum(axis=-1), 1.0)
    check_gradients(F.softmax, x)


def test_layer_norm_normalises_and_gradients():
    rng = np.random.default_rng(5)
    x, w, b = leaf(rng, 2, 3, 6, low=-2, high=2), leaf(rng, 6), leaf(rng, 6)
    plain = F.layer_norm(x, Tensor(np.ones(6)), Tensor(np.zeros(6))).data
    np.testing.assert_allclose(plain.mean(axis=-1), 0, atol=1e-12)
    np.testing.assert_allclose(plain.var(axis=-1), 1, rtol=1e-4)
    check_gradients(F.layer_norm, x, w, b)


def test_embedding_gathers_rows_and_accumulates_repeated_indices():
    rng = np.random.default_rng(6)
    weight = leaf(rng, 5, 3)
    indices = np.array([[0, 2, 2], [4, 0, 2]])
    np.testing.assert_array_equal(F.embedding(indices, weight).data, weight.data[indices])
    check_gradients(lambda w: F.embedding(indices, w), weight)


def test_cross_entropy_is_mean_negative_log_likelihood_and_gradients():
    rng = np.random.default_rng(7)
    logits, targets = leaf(rng, 4, 3, low=-3, high=3), np.array([0, 2, 1, 2])
    probs = np.exp(logits.data) / np.exp(logits.data).sum(axis=1, keepdims=True)
    assert math.isclose(float(F.cross_entropy(logits, targets).data), -np.log(probs[range(4), targets]).mean())
    check_gradients(lambda z: F.cross_entropy(z, targets), logits)


def test_linear_conv_sequential_gradients_through_parameters():
    nn.manual_seed(0)
    model = double(nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                                 nn.Linear(3 * 2 * 2, 4)))
    assert len(model.parameters()) == 4
    x = Tensor(np.random.default_rng(8).standard_normal((2, 2, 4, 4)))
    check_gradients(lambda *params: model(x), *model.parameters())


def test_causal_self_attention_gradients_and_causality():
    nn.manual_seed(1)
    attention = double(nn.CausalSelfAttention(dim=4, heads=2))
    rng = np.random.default_rng(9)
    x = leaf(rng, 2, 3, 4)
    check_gradients(attention, x)
    check_gradients(lambda *params: attention(x), *attention.parameters(), rtol=1e-4)
    changed = x.data.copy()
    changed[:, 2] += 1.0
    np.testing.assert_allclose(attention(Tensor(changed)).data[:, :2], attention(x).data[:, :2], rtol=1e-12)
    assert not np.allclose(attention(Tensor(changed)).data[:, 2], attention(x).data[:, 2])


def test_attention_rejects_dim_not_divisible_by_heads():
    with pytest.raises(ValueError, match="dim=6 and heads=4"):
        nn.CausalSelfAttention(dim=6, heads=4)


def test_manual_seed_makes_initialisation_reproducible():
    nn.manual_seed(5)
    first = nn.Linear(3, 2).weight.data
    nn.manual_seed(5)
    np.testing.assert_array_equal(nn.Linear(3, 2).weight.data, first)
    assert first.dtype == np.float32


def test_sgd_with_momentum_follows_its_update_rule():
    p = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    optimizer = nn.SGD([p], lr=0.1, momentum=0.9)
    p.grad = np.array([1.0, 1.0])
    optimizer.step()
    p.grad = np.array([1.0, 1.0])
    optimizer.step()
    np.testing.assert_allclose(p.data, [1.0 - 0.1 - 0.1 * 1.9, -2.0 - 0.1 - 0.1 * 1.9])
    optimizer.zero_grad()
    assert p.grad is None


def test_adam_first_step_moves_each_parameter_by_lr_against_its_gradient_sign():
    p = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    optimizer = nn.Adam([p], lr=0.01)
    p.grad = np.array([3.0, -0.001, 40.0])
    optimizer.step()
    np.testing.assert_allclose(p.data, [0.99, -1.99, 0.49], rtol=1e-6)


@pytest.mark.parametrize("make", [lambda ps: nn.SGD(ps, lr=0.1, momentum=0.9), lambda ps: nn.Adam(ps, lr=0.1)])
def test_optimizers_minimise_a_quadratic(make):
    p = Tensor(np.array([3.0, -4.0]), requires_grad=True)
    optimizer = make([p])
    for _ in range(300):
        optimizer.zero_grad()
        (p * p).backward(np.ones(2))
        optimizer.step()
    np.testing.assert_allclose(p.data, 0, atol=1e-2)


def test_optimizers_reject_bad_arguments():
    with pytest.raises(ValueError, match="lr must be positive, got -1"):
        nn.SGD([Tensor(np.zeros(1), requires_grad=True)], lr=-1)
    with pytest.raises(ValueError, match="params must hold at least one Tensor"):
        nn.Adam([])

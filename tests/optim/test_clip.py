"""Gradient clipping by total norm and by value."""

import math

import numpy as np
import pytest

from chainrule import nn
from chainrule.optim import clip_grad_norm_, clip_grad_value_


def with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(np.shape(g)), dtype=np.float64)
        p.grad = np.array(g, dtype=np.float64)
        params.append(p)
    return params


def test_clip_grad_norm_scales_to_max_norm():
    params = with_grads([3.0, 0.0], [[0.0, 4.0]])  # total 2-norm 5
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, float) and total == pytest.approx(5.0)
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad, [3 * scale, 0.0])
    np.testing.assert_allclose(params[1].grad, [[0.0, 4 * scale]])
    norm_after = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params))
    assert norm_after == pytest.approx(1.0, rel=1e-5)


def test_clip_grad_norm_leaves_small_gradients():
    params = with_grads([0.3, 0.4])
    assert clip_grad_norm_(params, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad, [0.3, 0.4])


def test_other_norms_and_skipped_parameters():
    params = with_grads([1.0, -2.0], [2.0])
    params.append(nn.Parameter(np.ones(2)))  # no grad: ignored
    assert clip_grad_norm_(params, 10.0, norm_type=1) == pytest.approx(5.0)
    assert clip_grad_norm_(params, 10.0, norm_type=float("inf")) == pytest.approx(2.0)
    clip_grad_norm_(params, 1.0, norm_type=float("inf"))
    np.testing.assert_allclose(params[0].grad, [0.5, -1.0], rtol=1e-5)
    assert clip_grad_norm_([nn.Parameter(np.ones(1))], 1.0) == 0.0
    single = with_grads([6.0, 8.0])[0]
    assert clip_grad_norm_(single, 5.0) == pytest.approx(10.0)  # a single tensor is accepted


def test_nonfinite_norm():
    params = with_grads([np.inf, 1.0])
    assert math.isinf(clip_grad_norm_(params, 1.0))
    with pytest.raises(RuntimeError, match="not finite"):
        clip_grad_norm_(with_grads([np.nan]), 1.0, error_if_nonfinite=True)


def test_clip_grad_value():
    params = with_grads([-3.0, 0.5, 2.0])
    grad_id = id(params[0].grad)
    clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad, [-1.0, 0.5, 1.0])
    assert id(params[0].grad) == grad_id
    with pytest.raises(ValueError, match="clip_value must be >= 0, received -1"):
        clip_grad_value_(params, -1)

"""The one-line op test harness: random float64 inputs, gradcheck, and a NumPy reference.

    check_op(F.tanh, np.tanh, (3, 4))

builds float64 inputs that require grad, checks the forward against the
NumPy reference (when given) and the backward against central differences.
"""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.autograd import gradcheck


def make_inputs(*shapes, seed=0, low=-2.0, high=2.0, positive=False):
    rng = np.random.default_rng(seed)
    tensors = []
    for shape in shapes:
        data = rng.uniform(low, high, size=shape)
        if positive:
            data = np.abs(data) + 0.5
        tensors.append(cr.tensor(data, dtype=np.float64, requires_grad=True))
    return tensors


def check_op(fn, reference, *shapes, seed=0, positive=False, atol=1e-5, rtol=1e-3, **kwargs):
    """Forward against ``reference`` (NumPy, may be None) and gradcheck in float64."""
    inputs = make_inputs(*shapes, seed=seed, positive=positive)
    out = fn(*inputs, **kwargs)
    if reference is not None:
        expected = reference(*[t.data.copy() for t in inputs], **kwargs)
        np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)
    assert gradcheck(lambda *xs: fn(*xs, **kwargs), inputs, atol=atol, rtol=rtol)
    return out

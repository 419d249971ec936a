"""Recurrent layers over a whole sequence: ``rnn_layer``, ``lstm_layer``, ``gru_layer``.

Each is one fused primitive for one layer and one direction, with
backpropagation through time (BPTT) written by hand:

* the input projection of the whole sequence, W_ih x_t (+ biases) for all t,
  is computed before the time loop, with no Python loop;
* the time loop does only the hidden-state matmul with W_hh and the gate
  arithmetic, in place on preallocated arrays;
* the backward loops over time iteratively (never recursively), from t = T−1
  down to 0; the per-step factors that do not depend on the incoming gradient
  (the gate derivatives) are computed for all steps at once before the loop,
  and the weight gradients are one GEMM each after it, over all T·N rows:
  ∂L/∂W_ih = Σ_t δa_tᵀ x_t and ∂L/∂W_hh = Σ_t δa_tᵀ h_{t−1}.

Layout inside the loops. LSTM and GRU run transposed and gate-major (see
:func:`_gate_major`): pre-activations and activations are (T, G·H, N), so step
t is the contiguous block ``acts[t]`` and each gate a contiguous (H, N) slice
of it; hidden states are (T + 1, H, N) and the step is ``W_hh @ h_{t−1}ᵀ``.
The plain RNN has a single gate, so its time-major (T, N, H) steps are
contiguous already; it keeps that layout (:func:`_input_projection`,
:func:`_sequence_grads`), which avoids the transposes at the boundaries and
measured faster than the gate-major one.

Sequences are time-major at the interface: input (T, N, I), states (N, H),
output (T, N, H). ``reverse=True`` runs the recurrence from the last step to
the first (the backward direction of a bidirectional layer); outputs stay in
the input's time order.

Gates follow PyTorch's layout and order at the interface: LSTM (i, f, g, o), GRU
(r, z, n). The GRU computes its sigmoids as σ(a) = 1 / (1 + e^{−a}), with the factor
−1 folded into the weights and biases so that exp, +1 and a reciprocal finish them
(e^{−a} overflowing to inf gives exactly σ = 0; the overflow warning is silenced).
The LSTM runs its rows in the order (i, f, o, g) and computes all four gates with ONE
tanh: σ(a) = ½ + ½ tanh(½a), the inner ½ folded into the weights and biases, so the
three sigmoid gates are one contiguous block that a multiply and an add finish (two
array operations per step fewer than exp, +1, reciprocal and 2σ(2a) − 1 for g). The
GRU's n gate and the RNN use ``tanh``.
"""

from __future__ import annotations

from ..autograd import Function
from ..backend import errstate, xp
from ..tensor import Tensor
from .shape import getitem

__all__ = ["gru_layer", "lstm_layer", "rnn_layer"]


def _input_projection(x, weight_ih, bias_ih, bias_hh):
    """X·W_ihᵀ (+ b_ih + b_hh) for the whole sequence as one GEMM: (T, N, I) → (T, N, G·H).

    Time-major, for :class:`RNNSequence`; LSTM and GRU use :func:`_gate_major`.
    """
    T, N, n_in = x.shape
    out = xp.matmul(x.reshape(T * N, n_in), weight_ih.T)
    if bias_ih is not None:
        out += bias_ih
    if bias_hh is not None:
        out += bias_hh
    return out.reshape(T, N, -1)


class RNNSequence(Function):
    """Elman RNN over a sequence: h_t = φ(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), φ tanh or relu.

    Output: (h_1, …, h_T) as (T, N, H). BPTT, with δh_t = ∂L/∂h_t from the output plus
    the recurrent term from step t + 1:

    * δa_t = δh_t ⊙ φ'(a_t)  (tanh: 1 − h_t²;  relu: 1[h_t > 0])
    * δh_{t−1} ← δa_t W_hh  (added to the output gradient of step t − 1)
    * ∂L/∂W_ih = Σ_t δa_tᵀ x_t,  ∂L/∂W_hh = Σ_t δa_tᵀ h_{t−1},  ∂L/∂b_ih = ∂L/∂b_hh = Σ_t Σ_n δa_t
    * ∂L/∂x_t = δa_t W_ih,  ∂L/∂h_0 = δh_0.

    With a single gate, each step's (N, H) block of the time-major (T, N, H) arrays is
    contiguous already, so this op keeps that layout (no gate-major transposes).
    """

    def forward(
        self,
        x,
        h0,
        weight_ih,
        weight_hh,
        bias_ih=None,
        bias_hh=None,
        nonlinearity="tanh",
        reverse=False,
    ):
        if reverse:
            x = x[::-1]
        T, N, _ = x.shape
        H = weight_hh.shape[1]
        projected = _input_projection(x, weight_ih, bias_ih, bias_hh)
        w_hh_t = xp.ascontiguousarray(weight_hh.T)
        hs = xp.empty((T + 1, N, H), dtype=projected.dtype)
        hs[0] = h0
        for t in range(T):
            h = hs[t + 1]
            xp.matmul(hs[t], w_hh_t, out=h)
            h += projected[t]
            if nonlinearity == "tanh":
                xp.tanh(h, out=h)
            else:
                xp.maximum(h, 0, out=h)
        self.x, self.hs, self.weight_ih, self.weight_hh = x, hs, weight_ih, weight_hh
        self.nonlinearity, self.reverse = nonlinearity, reverse
        y = hs[1:]
        return y[::-1] if reverse else y

    def backward(self, grad_output):
        dy = grad_output[::-1] if self.reverse else grad_output
        hs, w_hh = self.hs, self.weight_hh
        h = hs[1:]
        deriv = 1 - h * h if self.nonlinearity == "tanh" else (h > 0).astype(h.dtype)
        delta = xp.empty_like(h)
        dh_next = xp.zeros_like(hs[0])
        for t in range(h.shape[0] - 1, -1, -1):
            dh = dy[t] + dh_next
            xp.multiply(dh, deriv[t], out=delta[t])
            dh_next = xp.matmul(delta[t], w_hh)
        return _sequence_grads(self, delta, dh_next)


def _sequence_grads(fn, delta, dh0):
    """The gradient tuple (x, h0, W_ih, W_hh, b_ih, b_hh) of the time-major RNN.

    ``delta`` (T, N, H) is ∂L/∂a_t for a_t = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh; each
    weight gradient is one GEMM over all T·N rows, and both bias gradients are Σ_t Σ_n δa_t.
    """
    needs = fn.needs_input_grad
    T, N, H = delta.shape
    d = delta.reshape(T * N, H)
    gx = gw_ih = gw_hh = gb_ih = gb_hh = None
    if needs[0]:
        gx = xp.matmul(d, fn.weight_ih).reshape(fn.x.shape)
        if fn.reverse:
            gx = gx[::-1]
    if needs[2]:
        gw_ih = xp.matmul(d.T, fn.x.reshape(T * N, -1))
    if needs[3]:
        gw_hh = xp.matmul(d.T, fn.hs[:-1].reshape(T * N, -1))
    if needs[4]:
        gb_ih = d.sum(axis=0)
    if needs[5]:
        gb_hh = d.sum(axis=0)
    return (gx, dh0 if needs[1] else None, gw_ih, gw_hh, gb_ih, gb_hh)


def _gate_major(x, h0, weight_ih, weight_hh, biases, scale, rows=None):
    """Set up a transposed, gate-major time loop; returns ``(acts, hs, w_hh)``.

    * ``acts`` (T, G·H, N): scale ⊙ (W_ih x_tᵀ + Σ biases) for every step, the whole
      sequence's input projection as one batched matmul call (NumPy runs its T GEMMs in C).
      A single (G·H, I) × (I, T·N) or (T·N, I) × (I, G·H) GEMM plus the pass that moves its
      result into this layout measured 1.6–3× slower. Step t's pre-activations are the
      contiguous block ``acts[t]`` and each gate a contiguous (H, N) slice of it, so the
      gate arithmetic never works on strided columns.
    * ``hs`` (T + 1, H, N): the transposed hidden states, ``hs[0] = h0ᵀ``.
    * ``w_hh`` (G·H, H): scale ⊙ W_hh, so the loop adds ``w_hh @ hs[t]`` to ``acts[t]``.

    ``scale`` (G·H, 1) is a per-row factor folded into the weights and biases; ``rows``
    (optional) reorders the gates' rows for the loop (applied before ``scale``).
    """
    T, N, _ = x.shape
    H = weight_hh.shape[1]
    if rows is not None:
        weight_ih, weight_hh = weight_ih[rows], weight_hh[rows]
        biases = [None if b is None else b[rows] for b in biases]
    weight_ih, weight_hh = weight_ih * scale, weight_hh * scale
    acts = xp.matmul(weight_ih, x.transpose(0, 2, 1))
    biases = [b for b in biases if b is not None]
    if biases:
        bias = sum(biases[1:], biases[0])[:, None]  # one pass over acts for all of them
        acts += bias * scale
    hs = xp.empty((T + 1, H, N), dtype=acts.dtype)
    hs[0] = h0.T
    return acts, hs, weight_hh


def _gate_major_steps(a):
    """(T, N, H) → contiguous (T, H, N): a time-major gradient in the loop's transposed layout."""
    return xp.ascontiguousarray(a.transpose(0, 2, 1))


def _gate_major_grads(fn, delta_ih, dh0, delta_hh=None, extra=()):
    """The gradient tuple (x, h0, *extra, W_ih, W_hh, b_ih, b_hh) of a gate-major sequence op.

    ``delta_ih`` (T, G·H, N) is ∂L/∂(W_ih x_tᵀ + b_ih) and ``delta_hh`` (default: the same)
    ∂L/∂(W_hh h_{t−1} + b_hh), in the layout of :func:`_gate_major`; ``dh0`` (H, N) is ∂L/∂h_0ᵀ.
    Laid out as (G·H, T·N) matrices, each weight gradient is one GEMM over all steps:
    ∂L/∂W_ih = Σ_t δa_t x_t and ∂L/∂W_hh = Σ_t δa_t h_{t−1}ᵀ.
    """
    needs = fn.needs_input_grad
    T, GH, N = delta_ih.shape
    d_ih = delta_ih.transpose(1, 0, 2).reshape(GH, T * N)
    d_hh = d_ih if delta_hh is None else delta_hh.transpose(1, 0, 2).reshape(GH, T * N)
    gx = gw_ih = gw_hh = gb_ih = gb_hh = None
    if needs[0]:
        gx = xp.matmul(d_ih.T, fn.weight_ih).reshape(fn.x.shape)
        if fn.reverse:
            gx = gx[::-1]
    if needs[-4]:
        gw_ih = xp.matmul(d_ih, fn.x.reshape(T * N, -1))
    if needs[-3]:
        gw_hh = xp.matmul(d_hh, fn.hs[:-1].transpose(0, 2, 1).reshape(T * N, -1))
    ones = xp.ones(
        T * N, dtype=d_ih.dtype
    )  # bias gradients Σ_t Σ_n δa as GEMVs: 4× faster than .sum
    if needs[-2]:
        gb_ih = d_ih @ ones
    if needs[-1]:
        gb_hh = d_hh @ ones if delta_hh is not None or gb_ih is None else gb_ih.copy()
    return (gx, dh0.T.copy() if needs[1] else None, *extra, gw_ih, gw_hh, gb_ih, gb_hh)


class LSTMSequence(Function):
    """LSTM over a sequence, PyTorch's equations and gate order (i, f, g, o)::

        [a_i, a_f, a_g, a_o] = x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh
        i, f, o = σ(a_i), σ(a_f), σ(a_o);  g = tanh(a_g)
        c_t = f ⊙ c_{t−1} + i ⊙ g;         h_t = o ⊙ tanh(c_t)

    The output packs (h_1, …, h_T, c_T) as (T + 1, N, H), so the final cell state is
    differentiable too. BPTT, with δh_t the output gradient plus δh from step t + 1 and
    δc_t the cell gradient from step t + 1 (δc_T from the packed output):

    * δc_t += δh_t ⊙ o ⊙ (1 − tanh²c_t)
    * δa_o = δh_t ⊙ tanh c_t ⊙ o(1 − o);  δa_i = δc_t ⊙ g ⊙ i(1 − i)
    * δa_f = δc_t ⊙ c_{t−1} ⊙ f(1 − f);    δa_g = δc_t ⊙ i ⊙ (1 − g²)
    * δc_{t−1} = δc_t ⊙ f;  δh_{t−1} ← δa_t W_hh
    * weight, bias and input gradients as in :class:`RNNSequence`, with
      δa_t = [δa_i, δa_f, δa_g, δa_o].

    Inside, the time loop works on transposed, gate-major blocks (see :func:`_gate_major`):
    the pre-activations of step t are one contiguous (4H, N) array whose gates are
    contiguous (H, N) rows in the order (i, f, o, g), and all four gates come from ONE
    tanh: g = tanh(a_g) and σ(a) = ½ + ½ tanh(½a) for i, f, o, the inner ½ folded into
    the weights and biases. A forward step is ten array operations (the GEMM, its add,
    the tanh, the sigmoids' multiply and add, and five for c_t and h_t); a backward step
    five, or six when the step's output gradient is not zero: δh → [δa_o, δc] is one
    multiply by factors stacked before the loop, and δc → [δa_i, δa_f, δa_g] another.
    """

    def forward(self, x, h0, c0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False):
        if reverse:
            x = x[::-1]
        T, N, _ = x.shape
        H = weight_hh.shape[1]
        # rows in the loop's order (i, f, o, g); σ(a) = ½ + ½ tanh(½a), the ½ inside folded in
        rows = xp.concatenate([xp.arange(2 * H), xp.arange(3 * H, 4 * H), xp.arange(2 * H, 3 * H)])
        scale = xp.full((4 * H, 1), 0.5, dtype=weight_hh.dtype)
        scale[3 * H :] = 1
        acts, hs, w_hh = _gate_major(
            x, h0, weight_ih, weight_hh, (bias_ih, bias_hh), scale, rows=rows
        )
        cs = xp.empty_like(hs)
        cs[0] = c0.T
        tanh_c = xp.empty((T, H, N), dtype=hs.dtype)
        hidden = xp.empty((4 * H, N), dtype=hs.dtype)  # W_hh h_{t−1}, reused every step
        ig = xp.empty((H, N), dtype=hs.dtype)
        for t in range(T):  # ten array operations per step
            a = acts[t]
            xp.matmul(w_hh, hs[t], out=hidden)
            a += hidden
            xp.tanh(a, out=a)  # g = tanh(a_g); tanh(½a) for i, f, o
            sigmoids = a[: 3 * H]
            sigmoids *= 0.5
            sigmoids += 0.5
            i, f, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
            c = cs[t + 1]
            xp.multiply(f, cs[t], out=c)
            xp.multiply(i, g, out=ig)
            c += ig
            xp.tanh(c, out=tanh_c[t])
            xp.multiply(o, tanh_c[t], out=hs[t + 1])
        self.x, self.hs, self.cs, self.tanh_c, self.acts = x, hs, cs, tanh_c, acts
        self.weight_ih, self.weight_hh, self.reverse = weight_ih, weight_hh, reverse
        out = xp.empty((T + 1, N, H), dtype=hs.dtype)
        out[:T] = (hs[:0:-1] if reverse else hs[1:]).transpose(0, 2, 1)
        out[T] = cs[T].T
        return out

    def backward(self, grad_output):
        T = grad_output.shape[0] - 1
        dy = grad_output[T - 1 :: -1] if self.reverse else grad_output[:T]
        # steps whose output gradient is zero (a many-to-one model uses only the last) skip the add
        has_dy = dy.reshape(T, -1).any(axis=1).tolist()
        H = self.weight_hh.shape[1]
        acts, tanh_c = self.acts, self.tanh_c
        N = acts.shape[-1]
        i, f, o, g = (acts[:, k * H : (k + 1) * H] for k in range(4))  # the loop's order
        # per-step factors, for all t at once: δh → [δa_o, δc] is one multiply per step
        dh_to_ao_dc = xp.empty((T, 2, H, N), dtype=acts.dtype)
        xp.multiply(tanh_c, o * (1 - o), out=dh_to_ao_dc[:, 0])
        xp.multiply(o, 1 - tanh_c * tanh_c, out=dh_to_ao_dc[:, 1])
        dc_to_aifg = xp.empty((T, 3, H, N), dtype=acts.dtype)
        xp.multiply(g, i * (1 - i), out=dc_to_aifg[:, 0])
        xp.multiply(self.cs[:-1], f * (1 - f), out=dc_to_aifg[:, 1])
        xp.multiply(i, 1 - g * g, out=dc_to_aifg[:, 2])
        # rows δa_i, δa_f, δa_g, δa_o (PyTorch's order), then δh ⊙ o(1 − tanh² c) for δc
        delta = xp.empty((T, 5, H, N), dtype=acts.dtype)
        w_hh_t = self.weight_hh.T
        dh_next = xp.zeros_like(self.hs[0])
        dh = xp.empty_like(dh_next)
        dc = xp.empty_like(dh_next)
        dc[...] = grad_output[T].T
        for t in range(T - 1, -1, -1):  # five or six array operations per step
            if has_dy[t]:
                xp.add(dy[t].T, dh_next, out=dh)
                xp.multiply(dh, dh_to_ao_dc[t], out=delta[t, 3:])
            else:
                xp.multiply(dh_next, dh_to_ao_dc[t], out=delta[t, 3:])
            dc += delta[t, 4]
            xp.multiply(dc, dc_to_aifg[t], out=delta[t, :3])
            dc *= f[t]
            xp.matmul(w_hh_t, delta[t, :4].reshape(4 * H, N), out=dh_next)
        needs = self.needs_input_grad
        delta = delta[:, :4].reshape(T, 4 * H, N)
        return _gate_major_grads(self, delta, dh_next, extra=(dc.T.copy() if needs[2] else None,))


class GRUSequence(Function):
    """GRU over a sequence, PyTorch's equations and gate order (r, z, n)::

        [x_r, x_z, x_n] = x_t W_ihᵀ + b_ih;   [h_r, h_z, h_n] = h_{t−1} W_hhᵀ + b_hh
        r = σ(x_r + h_r);  z = σ(x_z + h_z);  n = tanh(x_n + r ⊙ h_n)
        h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

    BPTT, with δh_t the output gradient plus δh from step t + 1:

    * δa_n = δh_t ⊙ (1 − z) ⊙ (1 − n²)          (gradient of x_n; of h_n it is δa_n ⊙ r)
    * δa_z = δh_t ⊙ (h_{t−1} − n) ⊙ z(1 − z)
    * δa_r = δa_n ⊙ h_n ⊙ r(1 − r)
    * δh_{t−1} ← δh_t ⊙ z + [δa_r, δa_z, δa_n ⊙ r] W_hh
    * ∂L/∂W_ih = Σ_t [δa_r, δa_z, δa_n]ᵀ x_t,  ∂L/∂W_hh = Σ_t [δa_r, δa_z, δa_n ⊙ r]ᵀ h_{t−1},
      and the biases sum the same two gradients over t and the batch.

    Inside, the time loop works on transposed, gate-major blocks (see :func:`_gate_major`):
    step t's pre-activations are one contiguous (3H, N) array with contiguous (H, N) gates,
    overwritten in place by [r, z, n]; the states are (T + 1, H, N), transposed back to
    time-major (T, N, H) for the output. r and z come from one exp,
    σ(a) = 1 / (1 + e^{−a}), with the factor −1 folded into
    their rows of the weights and biases; b_hr and b_hz join the input projection, while
    h_n = W_hn h_{t−1} + b_hn (unscaled) is kept per step, as r multiplies it. All three
    rows of δa_t come from ONE multiply of δh_t by per-step factors computed before the loop.
    """

    def forward(self, x, h0, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse=False):
        if reverse:
            x = x[::-1]
        T, N, _ = x.shape
        H = weight_hh.shape[1]
        scale = xp.ones((3 * H, 1), dtype=weight_hh.dtype)
        scale[: 2 * H] = -1
        b_hrz = b_hn = None
        if bias_hh is not None:  # b_hr, b_hz add like b_ih; b_hn sits inside r ⊙ h_n
            b_hrz = xp.concatenate([bias_hh[: 2 * H], xp.zeros_like(bias_hh[2 * H :])])
            b_hn = bias_hh[2 * H :, None]
        acts, hs, w_hh = _gate_major(x, h0, weight_ih, weight_hh, (bias_ih, b_hrz), scale)
        h_n = xp.empty((T, H, N), dtype=hs.dtype)
        hidden = xp.empty(
            (3 * H, N), dtype=hs.dtype
        )  # [−W_hr h, −W_hz h, W_hn h], reused every step
        rh_n = xp.empty((H, N), dtype=hs.dtype)
        with errstate(over="ignore"):  # e^{−a} = inf gives σ(a) = 1 / inf = 0, exactly
            for t in range(T):
                a = acts[t]
                xp.matmul(w_hh, hs[t], out=hidden)
                rz = a[: 2 * H]
                rz += hidden[: 2 * H]
                xp.exp(rz, out=rz)
                rz += 1
                xp.reciprocal(rz, out=rz)
                r, z, n = a[:H], a[H : 2 * H], a[2 * H :]
                if b_hn is None:
                    h_n[t] = hidden[2 * H :]
                else:
                    xp.add(hidden[2 * H :], b_hn, out=h_n[t])
                xp.multiply(r, h_n[t], out=rh_n)
                n += rh_n
                xp.tanh(n, out=n)
                h = hs[t + 1]
                xp.subtract(hs[t], n, out=h)
                h *= z
                h += n
        self.x, self.hs, self.acts, self.h_n = x, hs, acts, h_n
        self.weight_ih, self.weight_hh, self.reverse = weight_ih, weight_hh, reverse
        return xp.ascontiguousarray((hs[:0:-1] if reverse else hs[1:]).transpose(0, 2, 1))

    def backward(self, grad_output):
        dy = _gate_major_steps(grad_output[::-1] if self.reverse else grad_output)
        H = self.weight_hh.shape[1]
        acts = self.acts
        T = acts.shape[0]
        r, z, n = acts[:, :H], acts[:, H : 2 * H], acts[:, 2 * H :]
        # per-step factors, for all t at once:
        # δa_t (as ∂L/∂(W_hh h_{t−1} + b_hh)) = δh_t ⊙ dh_to_a[t]
        one_minus_z = 1 - z
        dh_to_an = 1 - n * n
        dh_to_an *= one_minus_z
        dh_to_a = xp.empty((T, 3) + dh_to_an.shape[1:], dtype=acts.dtype)
        dh_to_ar, dh_to_az, dh_to_hn = dh_to_a[:, 0], dh_to_a[:, 1], dh_to_a[:, 2]
        xp.multiply(dh_to_an, r, out=dh_to_hn)  # δh_t → δa_n ⊙ r
        xp.multiply(dh_to_hn, self.h_n, out=dh_to_ar)  # → δa_r = δa_n ⊙ h_n ⊙ r(1 − r)
        dh_to_ar *= 1 - r
        xp.subtract(self.hs[:-1], n, out=dh_to_az)  # → δa_z = δh_t ⊙ (h_{t−1} − n) ⊙ z(1 − z)
        dh_to_az *= z
        dh_to_az *= one_minus_z
        delta_hh = xp.empty_like(acts)
        delta_gates = delta_hh.reshape(dh_to_a.shape)
        dhs = xp.empty_like(dh_to_an)  # δh_t, kept for δa_n after the loop
        w_hh_t = self.weight_hh.T
        dh_next = xp.zeros_like(self.hs[0])
        scratch = xp.empty_like(dh_next)
        for t in range(T - 1, -1, -1):
            dh = dhs[t]
            xp.add(dy[t], dh_next, out=dh)
            xp.multiply(dh, dh_to_a[t], out=delta_gates[t])
            xp.matmul(w_hh_t, delta_hh[t], out=dh_next)
            xp.multiply(dh, z[t], out=scratch)
            dh_next += scratch
        delta_ih = xp.empty_like(delta_hh)  # the same but δa_n for x_n, without the factor r
        delta_ih[:, : 2 * H] = delta_hh[:, : 2 * H]
        xp.multiply(dhs, dh_to_an, out=delta_ih[:, 2 * H :])
        return _gate_major_grads(self, delta_ih, dh_next, delta_hh=delta_hh)


# ----------------------------------------------------------------------- public API
def _check(owner, input, hx, weight_ih, weight_hh, bias_ih, bias_hh, gates):
    if input.ndim != 3:
        raise ValueError(
            f"{owner}: expected input of shape (T, N, input_size), received {tuple(input.shape)}"
        )
    H = weight_hh.shape[-1]
    n_in = weight_ih.shape[-1]
    if tuple(weight_hh.shape) != (gates * H, H) or tuple(weight_ih.shape) != (gates * H, n_in):
        raise ValueError(
            f"{owner}: expected weight_ih ({gates}·H, I) and weight_hh ({gates}·H, H), "
            f"received {tuple(weight_ih.shape)} and {tuple(weight_hh.shape)}"
        )
    if input.shape[2] != n_in:
        raise ValueError(
            f"{owner}: expected input of shape (T, N, {n_in}), received {tuple(input.shape)}"
        )
    for name, state in hx:
        if state is not None and tuple(state.shape) != (input.shape[1], H):
            raise ValueError(
                f"{owner}: expected {name} of shape ({input.shape[1]}, {H}), "
                f"received {tuple(state.shape)}"
            )
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None and tuple(bias.shape) != (gates * H,):
            raise ValueError(
                f"{owner}: expected {name} of shape ({gates * H},), received {tuple(bias.shape)}"
            )
    return H


def _zeros_state(input, H, state):
    if state is not None:
        return state
    return xp.zeros((input.shape[1], H), dtype=input.dtype)


def _last_step(output, T, reverse):
    return getitem(output, 0 if reverse else T - 1)


def rnn_layer(
    input,
    hx,
    weight_ih,
    weight_hh,
    bias_ih=None,
    bias_hh=None,
    nonlinearity: str = "tanh",
    reverse: bool = False,
) -> tuple[Tensor, Tensor]:
    """One Elman RNN layer over a time-major sequence.

    ``h_t = φ(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh)`` with φ = tanh or relu.

    Parameters
    ----------
    input : Tensor, shape (T, N, I)
    hx : Tensor or None, shape (N, H)
        The initial state h_0 (zeros when None).
    weight_ih : Tensor, shape (H, I)
    weight_hh : Tensor, shape (H, H)
    bias_ih, bias_hh : Tensor, shape (H,), optional
    nonlinearity : {'tanh', 'relu'}
    reverse : bool
        Run from the last step to the first (outputs stay in input order).

    Returns
    -------
    output : Tensor, shape (T, N, H)
        h_t for every step.
    h_n : Tensor, shape (N, H)
        The final state (h_T, or h_1 when ``reverse``).

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.zeros((5, 2, 3)))
    >>> out, h = F.rnn_layer(x, None, cr.tensor(np.ones((4, 3))), cr.tensor(np.eye(4)))
    >>> out.shape, h.shape
    ((5, 2, 4), (2, 4))
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(
            f"rnn_layer: expected nonlinearity 'tanh' or 'relu', received {nonlinearity!r}"
        )
    H = _check("rnn_layer", input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh, 1)
    out = RNNSequence.apply(
        input,
        _zeros_state(input, H, hx),
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
        nonlinearity=nonlinearity,
        reverse=bool(reverse),
    )
    return out, _last_step(out, input.shape[0], reverse)


def lstm_layer(
    input, hx, cx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse: bool = False
) -> tuple[Tensor, Tensor, Tensor]:
    """One LSTM layer over a time-major sequence (gates i, f, g, o; see :class:`LSTMSequence`).

    Parameters
    ----------
    input : Tensor, shape (T, N, I)
    hx, cx : Tensor or None, shape (N, H)
        Initial hidden and cell states (zeros when None).
    weight_ih : Tensor, shape (4H, I)
    weight_hh : Tensor, shape (4H, H)
    bias_ih, bias_hh : Tensor, shape (4H,), optional
    reverse : bool

    Returns
    -------
    output : Tensor, shape (T, N, H)
    h_n, c_n : Tensor, shape (N, H)
        The final hidden and cell states.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.zeros((5, 2, 3)))
    >>> w_ih, w_hh = cr.tensor(np.ones((16, 3))), cr.tensor(np.ones((16, 4)))
    >>> out, h, c = F.lstm_layer(x, None, None, w_ih, w_hh)
    >>> out.shape, c.shape
    ((5, 2, 4), (2, 4))
    """
    H = _check(
        "lstm_layer", input, [("hx", hx), ("cx", cx)], weight_ih, weight_hh, bias_ih, bias_hh, 4
    )
    packed = LSTMSequence.apply(
        input,
        _zeros_state(input, H, hx),
        _zeros_state(input, H, cx),
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
        reverse=bool(reverse),
    )
    T = input.shape[0]
    output = getitem(packed, slice(0, T))
    return output, _last_step(packed, T, reverse), getitem(packed, T)


def gru_layer(
    input, hx, weight_ih, weight_hh, bias_ih=None, bias_hh=None, reverse: bool = False
) -> tuple[Tensor, Tensor]:
    """One GRU layer over a time-major sequence (gates r, z, n; see :class:`GRUSequence`).

    Parameters
    ----------
    input : Tensor, shape (T, N, I)
    hx : Tensor or None, shape (N, H)
    weight_ih : Tensor, shape (3H, I)
    weight_hh : Tensor, shape (3H, H)
    bias_ih, bias_hh : Tensor, shape (3H,), optional
    reverse : bool

    Returns
    -------
    output : Tensor, shape (T, N, H)
    h_n : Tensor, shape (N, H)

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.functional as F
    >>> x = cr.tensor(np.zeros((5, 2, 3)))
    >>> out, h = F.gru_layer(x, None, cr.tensor(np.ones((12, 3))), cr.tensor(np.ones((12, 4))))
    >>> out.shape
    (5, 2, 4)
    """
    H = _check("gru_layer", input, [("hx", hx)], weight_ih, weight_hh, bias_ih, bias_hh, 3)
    out = GRUSequence.apply(
        input,
        _zeros_state(input, H, hx),
        weight_ih,
        weight_hh,
        bias_ih,
        bias_hh,
        reverse=bool(reverse),
    )
    return out, _last_step(out, input.shape[0], reverse)

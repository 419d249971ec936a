"""L-BFGS with an optional strong-Wolfe line search, a port of PyTorch's ``torch.optim.LBFGS``.

How it works
------------
Each ``step(closure)`` runs up to ``max_iter`` iterations on the flat vector
of all parameters. An iteration builds the search direction d = −H g from
the last ``history_size`` pairs (s = θₖ₊₁ − θₖ, y = gₖ₊₁ − gₖ) by the
two-loop recursion (Nocedal & Wright, Algorithm 7.4), with the initial
Hessian guess H₀ = (sᵀy / yᵀy) I; a pair is kept only when yᵀs > 1e-10
(the curvature condition). The step is θ ← θ + t d with t = lr, the first
iteration's t = lr · min(1, 1/‖g‖₁), or t from the strong-Wolfe line search
(cubic interpolation, Nocedal & Wright Algorithms 3.5–3.6). It stops early
when max|g| ≤ tolerance_grad, when max|t d| or the change of the loss falls
below tolerance_change, or after ``max_eval`` closure calls.
"""

from __future__ import annotations

from ..autograd import enable_grad
from ..backend import xp
from .optimizer import Optimizer, check_number

__all__ = ["LBFGS"]


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1, g1) and (x2, f2, g2), clamped to ``bounds``."""
    xmin, xmax = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0:
        d2 = d2_square**0.5
        if x1 <= x2:
            position = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            position = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(position, xmin), xmax)
    return (xmin + xmax) / 2.0


def _strong_wolfe(
    evaluate, t, d, loss, grad, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25
):
    """Step length t satisfying the strong Wolfe conditions along d (bracketing, then zoom).

    ``evaluate(t)`` returns (loss, flat gradient) at θ + t d. Returns (loss, grad, t, evaluations).
    """
    d_norm = float(xp.abs(d).max())
    grad = grad.copy()
    loss_new, grad_new = evaluate(t)
    evaluations = 1
    gtd_new = float(grad_new @ d)
    t_prev, loss_prev, grad_prev, gtd_prev = 0.0, loss, grad, gtd
    done = False
    ls_iter = 0
    bracket_gtd = None
    while ls_iter < max_ls:  # bracketing: find an interval that contains a Wolfe point
        if loss_new > loss + c1 * t * gtd or (ls_iter > 1 and loss_new >= loss_prev):
            bracket, bracket_f = [t_prev, t], [loss_prev, loss_new]
            bracket_g, bracket_gtd = [grad_prev, grad_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [loss_new], [grad_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [loss_prev, loss_new]
            bracket_g, bracket_gtd = [grad_prev, grad_new.copy()], [gtd_prev, gtd_new]
            break
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        previous = t
        t = _cubic_interpolate(
            t_prev, loss_prev, gtd_prev, t, loss_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, loss_prev, grad_prev, gtd_prev = previous, loss_new, grad_new.copy(), gtd_new
        loss_new, grad_new = evaluate(t)
        evaluations += 1
        gtd_new = float(grad_new @ d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0.0, t], [loss, loss_new], [grad, grad_new]

    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:  # zoom: shrink the bracket to a Wolfe point
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:  # too close to an end: move inside
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                t = (
                    max(bracket) - eps
                    if abs(t - max(bracket)) < abs(t - min(bracket))
                    else min(bracket) + eps
                )
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        loss_new, grad_new = evaluate(t)
        evaluations += 1
        gtd_new = float(grad_new @ d)
        ls_iter += 1
        if loss_new > loss + c1 * t * gtd or loss_new >= bracket_f[low]:
            bracket[high], bracket_f[high], bracket_g[high], bracket_gtd[high] = (
                t,
                loss_new,
                grad_new.copy(),
                gtd_new,
            )
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low], bracket_g[low], bracket_gtd[low] = (
                t,
                loss_new,
                grad_new.copy(),
                gtd_new,
            )
    return bracket_f[low], bracket_g[low], bracket[low], evaluations


class LBFGS(Optimizer):
    """Limited-memory BFGS (PyTorch's ``torch.optim.LBFGS``); ``step`` needs a closure.

    Parameters
    ----------
    params : iterable of Parameter
        One parameter group only (the method works on one flat vector).
    lr : float, default 1
        The step length (the line search's first trial when it is on).
    max_iter : int, default 20
        Iterations per ``step``.
    max_eval : int, optional
        Closure calls per ``step`` (default max_iter · 5/4).
    tolerance_grad, tolerance_change : float
        Stop when max|g| ≤ tolerance_grad, or when the step or the loss change is below
        tolerance_change.
    history_size : int, default 100
        The number of (s, y) pairs kept.
    line_search_fn : None or 'strong_wolfe'

    Notes
    -----
    ``step(closure)``: ``closure()`` clears the gradients, computes the loss, calls
    ``backward()`` and returns the loss; ``step`` returns the first loss it evaluated.

    Examples
    --------
    >>> import numpy as np, chainrule as cr, chainrule.nn as nn, chainrule.optim as optim
    >>> w = nn.Parameter(np.array([3.0, -2.0]), dtype=np.float64)
    >>> opt = optim.LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = ((w - cr.tensor([1.0, 2.0], dtype=np.float64)) ** 2).sum()
    ...     loss.backward()
    ...     return loss
    >>> _ = opt.step(closure)
    >>> np.round(w.data, 6).tolist()
    [1.0, 2.0]
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ):
        if max_eval is None and isinstance(max_iter, int) and not isinstance(max_iter, bool):
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                "LBFGS: expected one parameter group (the method works on one flat vector), "
                f"received {len(self.param_groups)}"
            )
        self._params = self.param_groups[0]["params"]

    def _validate(self, group: dict) -> None:
        for key in ("lr", "tolerance_grad", "tolerance_change"):
            check_number("LBFGS", key, group[key])
        for key in ("max_iter", "max_eval", "history_size"):
            value = group[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"LBFGS: {key} must be a positive int, received {value!r}")
        if group["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', "
                f"received {group['line_search_fn']!r}"
            )

    # ------------------------------------------------------------ flat vectors
    def _flat_grad(self):
        parts = [
            xp.zeros(p.data.size, dtype=p.data.dtype) if p.grad is None else xp.ravel(p.grad)
            for p in self._params
        ]
        return xp.concatenate(parts)

    def _add(self, step: float, direction) -> None:
        offset = 0
        for p in self._params:
            n = p.data.size
            p.data += step * direction[offset : offset + n].reshape(p.data.shape)
            offset += n

    def _evaluate(self, closure):
        with enable_grad():
            loss = closure()
        return float(loss.item() if hasattr(loss, "item") else loss)

    def step(self, closure=None):
        """Run up to ``max_iter`` L-BFGS iterations; returns the loss the closure gave first."""
        if closure is None:
            raise TypeError(
                "LBFGS.step: expected a closure that re-evaluates the model and returns the loss"
            )
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size, line_search = group["history_size"], group["line_search_fn"]
        state = self.state.setdefault(self._params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            first_loss = closure()
        loss = float(first_loss.item() if hasattr(first_loss, "item") else first_loss)
        evaluations = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:
            return first_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_steps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad = state.get("H_diag"), state.get("prev_flat_grad")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_steps, ro, H_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:  # curvature condition: keep the pair
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_steps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_steps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y @ y)
                # two-loop recursion: d = −H g
                alpha = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    alpha[i] = float(old_steps[i] @ q) * ro[i]
                    q = q - alpha[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    beta = float(old_dirs[i] @ r) * ro[i]
                    r += old_steps[i] * (alpha[i] - beta)
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(flat_grad @ d)
            if gtd > -tolerance_change:  # not a descent direction
                break
            if line_search == "strong_wolfe":
                start = [p.data.copy() for p in self._params]

                def evaluate(step, start=start, d=d):
                    self._add(step, d)
                    value = self._evaluate(closure)
                    grad = self._flat_grad()
                    for p, saved in zip(self._params, start, strict=True):
                        p.data[...] = saved
                    return value, grad

                loss, flat_grad, t, ls_evals = _strong_wolfe(evaluate, t, d, loss, flat_grad, gtd)
                self._add(t, d)
                optimal = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add(t, d)
                ls_evals = 0
                optimal = False
                if n_iter != max_iter:
                    loss = self._evaluate(closure)
                    flat_grad = self._flat_grad()
                    optimal = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_evals = 1
            evaluations += ls_evals
            state["func_evals"] += ls_evals
            if n_iter == max_iter or evaluations >= max_eval or optimal:
                break
            if (
                float(xp.abs(d * t).max()) <= tolerance_change
                or abs(loss - prev_loss) < tolerance_change
            ):
                break
        state.update(
            d=d,
            t=t,
            old_dirs=old_dirs,
            old_stps=old_steps,
            ro=ro,
            H_diag=H_diag,
            prev_flat_grad=prev_flat_grad,
            prev_loss=prev_loss if n_iter else None,
        )
        return first_loss

"""BG/NBD (Fader, Hardie & Lee 2005) and Gamma-Gamma spend (Fader & Hardie, note 025):
maximum-likelihood fits and per-customer scores, numpy + scipy only (docs/rules.md §20).

Every likelihood is computed in log space with `gammaln`/`betaln`, vectorised over customers,
with an analytic gradient. Times (and spends) are divided by a scale before fitting so the
optimiser works on numbers near 1; the fitted parameters are given back in the caller's units.
The optimiser works on log-parameters (all parameters are positive) and starts from 1, 1, 1, 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import (
    betaln,
    digamma,
    expit,
    gammaln,
    hyp2f1,
    log_expit,
)

EDGE = 9.0  # |log parameter| beyond this (rescaled, e^±9): the maximum is at a model limit
LOG_BOUND = 30.0  # parameters of the rescaled problem stay within e^±30
CHUNK = 16_384  # vehicles per slice of the likelihood loops (`_pieces`)
GRAD_TOL = 1e-4  # converged = optimiser success and max |gradient| below this (rescaled problem)
Array = np.ndarray
Objective = Callable[..., tuple[float, Array]]


class FitError(ValueError):
    """A fit that cannot be trusted (did not converge, or no data to fit)."""


@dataclass
class Fit:
    """Fitted parameters (caller's units), their standard errors, the log-likelihood (caller's
    units), the maximum |gradient| on the rescaled problem and whether the fit converged."""

    model: str
    names: tuple[str, ...]
    params: tuple[float, ...]
    std_errors: tuple[float, ...]
    log_likelihood: float
    max_gradient: float
    converged: bool
    iterations: int
    n: int
    message: str = ""
    extra: dict[str, float] = field(default_factory=dict)
    edge: tuple[str, ...] = ()  # parameters that ran to the edge of the model (e^±9)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.params, strict=True))

    def check(self) -> Fit:
        """The fit itself, or FitError with one line saying why it cannot be used."""
        if not self.converged:
            raise FitError(
                f"the {self.model} fit did not converge on {self.n} vehicle(s) "
                f"(max |gradient| {self.max_gradient:.2g}, {self.message or 'no message'}); "
                "too little or too uniform paid-visit history to forecast"
            )
        return self


# -- BG/NBD ----------------------------------------------------------------------------------


def _dot(a: Array, b: Array) -> float:
    """Σ a·b without BLAS (its threads only add overhead and contention on a shared machine)."""
    return float(np.multiply(a, b).sum())


def _pieces(x: Array) -> tuple[Array, Array, Array, list[tuple[int, int, int]]]:
    """x sorted: the order, the distinct values, their counts, and (k, lo, hi) slices of the
    sorted data, each within the k-th distinct value and at most CHUNK long. The likelihoods
    walk these slices: within one x the x-terms are scalars, and a slice's intermediates stay
    in the processor's cache instead of streaming arrays of millions through memory."""
    order = np.argsort(x, kind="stable")
    ux, start, counts = np.unique(x[order], return_index=True, return_counts=True)
    pieces = [
        (k, lo, min(lo + CHUNK, s + c))
        for k, (s, c) in enumerate(zip(start.tolist(), counts.tolist(), strict=True))
        for lo in range(s, s + c, CHUNK)
    ]
    return order, ux, counts.astype(float), pieces


class _Visits:
    """The BG/NBD data sorted by x, with the terms that depend on x alone taken once per
    distinct x (repeat counts are small integers: a few hundred distinct values among
    millions)."""

    def __init__(self, x: Array, tx: Array, T: Array) -> None:
        order, self.ux, self.cnt, self.pieces = _pieces(x)
        self.tx, self.T = tx[order], T[order]
        self.n = len(x)


def bgnbd_ll(lp: Array, x: Array, tx: Array, T: Array) -> Array:
    """Per-customer log-likelihood at log-parameters lp = log(r, α, a, b)."""
    r, alpha, a, b = np.exp(lp)
    has = x > 0
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.where(
        has,
        np.log(a) - np.log(np.where(has, b + x - 1, 1.0)) - (r + x) * np.log(alpha + tx),
        -np.inf,
    )
    return (
        gammaln(r + x)
        - gammaln(r)
        + r * np.log(alpha)
        + betaln(a, b + x)
        - betaln(a, b)
        + np.logaddexp(a3, a4)
    )


def _bgnbd_objective(lp: Array, d: _Visits) -> tuple[float, Array]:
    """Mean negative log-likelihood and its gradient with respect to the log-parameters."""
    r, alpha, a, b = np.exp(lp)
    ux, cnt = d.ux, d.cnt
    urx = r + ux
    uhas = ux > 0
    bx1 = np.where(uhas, b + ux - 1, 1.0)
    # per distinct x: the parts of the likelihood and gradient that do not involve times
    ll_x = gammaln(urx) - gammaln(r) + r * np.log(alpha) + betaln(a, b + ux) - betaln(a, b)
    c4 = np.where(uhas, np.log(a) - np.log(bx1), -np.inf)
    # per vehicle, a slice of equal x at a time: a3 = −(r+x)·log(α+T) and a4 = a3 + z, mixed
    # in log space as log(e^a3 + e^a4) = a3 + softplus(z) = a3 − log σ(−z); w = σ(z) is the
    # share of the "dropped out after t_x" term (0 when x = 0). Sums are kept per distinct x
    # and added up at the end: log(α+T), log σ(−z), w·log((α+T)/(α+t_x)),
    # (1−w)/(α+T) + w/(α+t_x) and w
    l_k, sp_k, wdl_k, al_k, w_x = (np.zeros(len(ux)) for _ in range(5))
    for k, lo, hi in d.pieces:
        a_t = alpha + d.T[lo:hi]
        l_k[k] += np.log(a_t).sum()
        if not uhas[k]:  # z = −∞: w = 0
            al_k[k] += np.reciprocal(a_t).sum()
            continue
        a_tx = alpha + d.tx[lo:hi]
        dl = np.log(a_t / a_tx)  # log((α+T)/(α+t_x)) ≥ 0
        z = c4[k] + urx[k] * dl
        w = expit(z)
        sp_k[k] += log_expit(-z).sum()
        wdl_k[k] += _dot(w, dl)
        w_x[k] += w.sum()
        al_k[k] += ((1 - w) / a_t + w / a_tx).sum()
    s_l, s_rl, s_sp, s_wdl, s_al = (
        l_k.sum(),
        _dot(urx, l_k),
        sp_k.sum(),
        wdl_k.sum(),
        _dot(urx, al_k),
    )
    ll = _dot(cnt, ll_x) - s_rl - s_sp
    dab = digamma(a + b) - digamma(a + b + ux)
    d_r = _dot(cnt, digamma(urx) - digamma(r) + np.log(alpha)) - s_l + s_wdl
    d_alpha = r / alpha * d.n - s_al
    d_a = _dot(cnt, dab) + w_x.sum() / a
    d_b = _dot(cnt, dab + digamma(b + ux) - digamma(b)) - _dot(w_x, 1.0 / bx1)
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return -ll / d.n, -grad / d.n


# -- Gamma-Gamma -----------------------------------------------------------------------------


def gg_ll(lp: Array, x: Array, m: Array) -> Array:
    """Per-customer Gamma-Gamma log-likelihood at lp = log(p, q, γ) (x ≥ 1, m > 0)."""
    p, q, g = np.exp(lp)
    px = p * x
    return (
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(g + m * x)
    )


class _Spends:
    """The Gamma-Gamma data sorted by x (in slices as `_pieces`), with the sums that do not
    involve the parameters taken once and the terms of x alone taken per distinct x."""

    def __init__(self, x: Array, m: Array) -> None:
        order, self.ux, self.cnt, self.pieces = _pieces(x)
        self.x, self.m, self.n = x[order], m[order], len(x)
        log_m = np.log(self.m)
        self.mx = self.m * self.x
        self.sum_log_m = float(log_m.sum())
        # Σ x·(log m + log x)
        self.sum_x_log_mx = float((self.x * (log_m + np.log(self.x))).sum())


def _gg_objective(lp: Array, d: _Spends) -> tuple[float, Array]:
    """Mean negative Gamma-Gamma log-likelihood and its gradient in log-parameters."""
    p, q, g = np.exp(lp)
    ux, cnt, n = d.ux, d.cnt, d.n
    pux = p * ux
    # per slice: Σ log(γ + m·x) and Σ 1/(γ + m·x); weighted by x or p·x + q per distinct x
    lg, inv = np.zeros(len(ux)), np.zeros(len(ux))
    for k, lo, hi in d.pieces:
        g_mx = g + d.mx[lo:hi]
        lg[k] += np.log(g_mx).sum()
        inv[k] += np.reciprocal(g_mx).sum()
    pxq = pux + q
    s_lg, s_pxq_lg, s_x_lg, s_ratio = lg.sum(), _dot(pxq, lg), _dot(ux, lg), _dot(pxq, inv)
    ll = (
        _dot(cnt, gammaln(pux + q) - gammaln(pux))
        - n * gammaln(q)
        + n * q * np.log(g)
        + p * d.sum_x_log_mx
        - d.sum_log_m
        - s_pxq_lg
    )
    dig = digamma(pux + q)
    d_p = _dot(cnt, ux * (dig - digamma(pux))) + d.sum_x_log_mx - s_x_lg
    d_q = _dot(cnt, dig) - n * digamma(q) + n * np.log(g) - s_lg
    d_g = n * q / g - s_ratio
    grad = np.array([d_p * p, d_q * q, d_g * g])
    return -ll / n, -grad / n


# -- fitting ---------------------------------------------------------------------------------


def _hessian(objective: Objective, lp: Array, *args: Any) -> Array:
    """The Hessian of a mean objective by central differences of its analytic gradient."""
    k = len(lp)
    h = np.zeros((k, k))
    for i in range(k):
        step = 1e-5 * max(1.0, abs(lp[i]))
        e = np.zeros(k)
        e[i] = step
        h[:, i] = (objective(lp + e, *args)[1] - objective(lp - e, *args)[1]) / (2 * step)
    return (h + h.T) / 2


class _Hessians:
    """The Hessian of one objective at a point, kept for the last point asked: the Newton
    polish, the check for a maximum and the standard errors all ask for the final one. A
    point within 1e-6 of the kept one (in log-parameters: the last Newton step before the
    gradient vanished) reuses it; the Hessian changes there by far less than its own
    finite-difference error."""

    def __init__(self, objective: Objective, args: tuple[Any, ...]) -> None:
        self.objective, self.args = objective, args
        self.at: Array | None = None
        self.value = np.zeros((0, 0))

    def __call__(self, lp: Array) -> Array:
        if self.at is None or not np.max(np.abs(self.at - lp)) < 1e-6:
            self.at, self.value = lp.copy(), _hessian(self.objective, lp, *self.args)
        return self.value


def _minimise(
    objective: Objective, start: Array, hessians: _Hessians
) -> tuple[Array, float, Array, bool, int, str]:
    """Minimise from `start` (L-BFGS-B, then Newton polish steps with the Hessian while they
    improve); returns lp, value, gradient, optimiser success, iterations, message."""
    with np.errstate(all="ignore"):  # trial steps may overflow; they are rejected, not shown
        return _minimise_quietly(objective, start, hessians)


def _minimise_quietly(
    objective: Objective, start: Array, hessians: _Hessians
) -> tuple[Array, float, Array, bool, int, str]:
    args = hessians.args
    lp, its = np.asarray(start, dtype=float), 0
    # log-parameters within ±LOG_BOUND: the line search never tries e^700
    bounds = [(-LOG_BOUND, LOG_BOUND)] * len(lp)
    for _ in range(4):  # a line-search stop short of the tolerance: restart from there
        res = minimize(
            objective,
            lp,
            args=args,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20},
        )
        lp, val, grad = res.x, float(res.fun), res.jac
        ok, its, msg = bool(res.success), its + int(res.nit), str(res.message)
        if ok or not np.all(np.isfinite(lp)):
            break
    if not np.all(np.isfinite(lp)) or not np.isfinite(val):
        return lp, val, grad, False, its, "non-finite likelihood"
    for _ in range(20):  # Newton polish: quadratic convergence near the optimum
        if np.max(np.abs(grad)) < 1e-12:
            break
        hess = hessians(lp)
        try:
            step = np.linalg.solve(hess, grad)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)) or np.max(np.abs(step)) > 1.0:
            break
        new_val, new_grad = objective(lp - step, *args)
        # near the optimum the objective is flat to machine precision: take a step that does
        # not raise it and shrinks the gradient
        if (
            not np.isfinite(new_val)
            or new_val > val + 1e-13 * abs(val)
            or np.max(np.abs(new_grad)) >= np.max(np.abs(grad))
        ):
            break
        lp, val, grad = lp - step, float(new_val), new_grad
        its += 1
    if not ok and np.max(np.abs(grad)) < GRAD_TOL:
        # L-BFGS-B stops on its line search when the objective can no longer be lowered in
        # floating point; that is a maximum of the likelihood when the Hessian there is
        # positive semi-definite (a direction flat to 1e-6 of the steepest one: a limit of
        # the model such as no drop-out, reported as `edge`)
        try:
            eig = np.linalg.eigvalsh(hessians(lp))
            minimum = bool(np.all(np.isfinite(eig)) and eig[-1] > 0 and eig[0] > -1e-6 * eig[-1])
        except np.linalg.LinAlgError:
            minimum = False
        if minimum:
            ok, msg = True, f"{msg.strip()} (stopped at machine precision at a maximum)"
    return lp, val, grad, ok, its, msg


def _std_errors(hessians: _Hessians, lp: Array, n: int) -> Array:
    """Standard errors of the (rescaled) parameters from the Hessian of the total negative
    log-likelihood in log-parameters: se(θ) = θ · sqrt(diag(H⁻¹))."""
    with np.errstate(all="ignore"):
        hess = hessians(lp) * n
    try:
        cov = np.linalg.inv(hess)
        var = np.diag(cov)
    except np.linalg.LinAlgError:
        return np.full(len(lp), np.nan)
    return np.exp(lp) * np.sqrt(np.where(var > 0, var, np.nan))


def _time_scale(T: Array) -> float:
    top = float(np.max(T)) if len(T) else 0.0
    return top / 10.0 if top > 0 else 1.0


def fit_bgnbd(x: Array, tx: Array, T: Array) -> Fit:
    """Maximum-likelihood BG/NBD (r, α, a, b) from repeat counts x, recency t_x and age T
    (any time unit; α comes back in that unit). Starts from (1, 1, 1, 1) on the rescaled
    problem (times / (max T / 10))."""
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    n = len(x)
    if n == 0 or not np.any(x > 0) or not np.any(T > 0):
        raise FitError(
            f"BG/NBD needs vehicles with a repeat paid visit; {n} vehicle(s), "
            f"{int(np.sum(x > 0)) if n else 0} with one"
        )
    s = _time_scale(T)
    hessians = _Hessians(_bgnbd_objective, (_Visits(x, tx / s, T / s),))
    lp, val, grad, ok, its, msg = _minimise(_bgnbd_objective, np.zeros(4), hessians)
    max_grad = float(np.max(np.abs(grad)))
    se = _std_errors(hessians, lp, n)
    r, alpha, a, b = np.exp(lp)
    ll = -val * n - float(np.sum(x)) * np.log(s)  # back to the caller's time unit
    edge = tuple(k for k, v in zip(("r", "alpha", "a", "b"), lp, strict=True) if abs(v) > EDGE)
    return Fit(
        "BG/NBD",
        ("r", "alpha", "a", "b"),
        (float(r), float(alpha * s), float(a), float(b)),
        (float(se[0]), float(se[1] * s), float(se[2]), float(se[3])),
        float(ll),
        max_grad,
        ok and max_grad < GRAD_TOL,
        its,
        n,
        msg,
        {"time_scale": s},
        edge,
    )


def fit_gamma_gamma(x: Array, m: Array) -> Fit:
    """Maximum-likelihood Gamma-Gamma (p, q, γ) from repeat counts x ≥ 1 and mean repeat
    spends m > 0 (customers with x = 0 or m ≤ 0 are left out by the caller)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    n = len(x)
    if n < 2:
        raise FitError(f"Gamma-Gamma needs at least 2 vehicles with a repeat paid visit; {n} found")
    s = float(np.mean(m))
    hessians = _Hessians(_gg_objective, (_Spends(x, m / s),))
    lp, val, grad, ok, its, msg = _minimise(_gg_objective, np.zeros(3), hessians)
    max_grad = float(np.max(np.abs(grad)))
    se = _std_errors(hessians, lp, n)
    p, q, g = np.exp(lp)
    ll = -val * n - n * np.log(s)
    edge = tuple(k for k, v in zip(("p", "q", "gamma"), lp, strict=True) if abs(v) > EDGE)
    return Fit(
        "Gamma-Gamma",
        ("p", "q", "gamma"),
        (float(p), float(q), float(g * s)),
        (float(se[0]), float(se[1]), float(se[2] * s)),
        float(ll),
        max_grad,
        ok and max_grad < GRAD_TOL,
        its,
        n,
        msg,
        {"spend_scale": s},
        edge,
    )


# -- scores ----------------------------------------------------------------------------------


def _log_odds_gone(params: tuple[float, ...], x: Array, tx: Array, T: Array) -> Array:
    """log of a/(b+x−1) · ((α+T)/(α+t_x))^(r+x) (−inf when x = 0)."""
    r, alpha, a, b = params
    has = x > 0
    return np.where(
        has,
        np.log(a)
        - np.log(np.where(has, b + x - 1, 1.0))
        + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)),
        -np.inf,
    )


def p_alive(params: tuple[float, ...], x: Array, tx: Array, T: Array) -> Array:
    """P(alive | x, t_x, T); 1 when x = 0 (the model cannot tell a one-visit customer gone)."""
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    return expit(-_log_odds_gone(params, x, tx, T))


def expected_visits(params: tuple[float, ...], t: float, x: Array, tx: Array, T: Array) -> Array:
    """E[transactions in (T, T + t] | x, t_x, T] (Fader, Hardie & Lee 2005, eq. 10).

    The term ((α+T)/(α+T+t))^(r+x) · 2F1(r+x, b+x; a+b+x−1; z) is rewritten with Euler's
    transformation as (1−z)^(a−1) · 2F1(a+b−1−r, a−1; a+b+x−1; z), z = t/(α+T+t): small
    upper parameters, no overflow at x in the hundreds or T in thousands of days."""
    r, alpha, a, b = params
    x, tx, T = (np.asarray(v, dtype=float) for v in (x, tx, T))
    if abs(a - 1.0) < 1e-9:  # the closed form has a removable 0/0 at a = 1
        a = 1.0 + 1e-9
    z = t / (alpha + T + t)
    g = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    head = (a + b + x - 1) / (a - 1) * (1.0 - g)
    return head * expit(-_log_odds_gone(params, x, tx, T))


def expected_ticket(params: tuple[float, ...], x: Array, m: Array) -> Array:
    """Gamma-Gamma conditional mean spend p(γ + x·m)/(p·x + q − 1); x = 0 gives the
    population mean pγ/(q − 1) (m is ignored there)."""
    p, q, g = params
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    m = np.where(x > 0, np.nan_to_num(m), 0.0)
    return p * (g + x * m) / (p * x + q - 1)

"""Exact PA/PC binarization of whole layers vs the per-candidate generic QP approach.

Run: python benchmarks/bench_projection.py [--neurons 4096] [--qp-sample 2]

The reference approach solves one generic quadratic program (here scipy's SLSQP) per candidate
element (every upper level set, for dilation and erosion) per neuron. It is timed on a sample of
candidates in the same run and extrapolated to the whole layer; skmorph's vectorized solver is
timed on the whole layer, and both agree on the sampled neurons.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import minimize

from skmorph.morphology import project_activable, project_constant
from skmorph.morphology.projection import project_activable_on


def qp_candidate(weights, target, selem):
    k = len(weights)
    constraints = [
        {
            "type": "ineq",
            "fun": lambda x: x[k] - x[:k][~selem].sum(),
            "jac": lambda x: np.append(-(~selem).astype(float), 1.0),
        },
        {
            "type": "ineq",
            "fun": lambda x: x[:k][selem] - x[k],
            "jac": lambda x: np.hstack([np.eye(k)[selem], -np.ones((selem.sum(), 1))]),
        },
    ]
    result = minimize(
        lambda x: 0.5 * ((x[:k] - weights) ** 2).sum() + 0.5 * (x[k] - target) ** 2,
        np.append(weights, target),
        jac=lambda x: np.append(x[:k] - weights, x[k] - target),
        bounds=[(0, None)] * k + [(None, None)],
        constraints=constraints,
        method="SLSQP",
        options={"ftol": 1e-12, "maxiter": 500},
    )
    return result.fun


def qp_neuron_time(weights, bias, n_candidates, rng):
    """Seconds per neuron of the generic approach, from ``n_candidates`` sampled candidates."""
    k = len(weights)
    order = np.argsort(-weights)
    start = time.perf_counter()
    for t in rng.choice(np.arange(1, k + 1), size=n_candidates, replace=False):
        selem = np.zeros(k, bool)
        selem[order[:t]] = True
        qp_candidate(weights, bias, selem)
    return (time.perf_counter() - start) / n_candidates * 2 * k


def check_against_qp(weights, bias, n_neurons):
    """Largest gap between skmorph and SLSQP on the chosen element of a few neurons."""
    result = project_activable(weights[:n_neurons], bias[:n_neurons])
    gaps = []
    for i in range(n_neurons):
        target = bias[i] if result.operation[i] == "dilation" else weights[i].sum() - bias[i]
        qp = qp_candidate(weights[i], target, result.selem[i])
        gaps.append(abs(qp - result.distance[i]))
        own = project_activable_on(weights[i], bias[i], result.selem[i], result.operation[i])
        assert abs(own.distance[0] - result.distance[i]) < 1e-9
    return max(gaps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--neurons", type=int, default=4096)
    parser.add_argument("--qp-sample", type=int, default=4, help="candidates timed per layer")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print("| layer | PA skmorph (s) | PC exact (s) | PC uniform (s) | generic QP, extrapolated "
          "| PA speed-up | max gap to QP |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, k in [("dense 784 inputs", 784), ("7x7 conv kernels", 49)]:
        # softplus-like positive weights with a sparse strong part, as after training
        weights = rng.exponential(0.05, size=(args.neurons, k))
        weights += rng.exponential(1.0, size=weights.shape) * (rng.random(weights.shape) < 0.05)
        bias = rng.random(args.neurons) * weights.sum(axis=1)
        start = time.perf_counter()
        project_activable(weights, bias)
        t_pa = time.perf_counter() - start
        start = time.perf_counter()
        project_constant(weights, bias, mode="exact")
        t_pc = time.perf_counter() - start
        start = time.perf_counter()
        project_constant(weights, bias, mode="uniform")
        t_pcu = time.perf_counter() - start
        per_neuron = qp_neuron_time(weights[0], bias[0], args.qp_sample, rng)
        t_qp = per_neuron * args.neurons
        gap = check_against_qp(weights, bias, 3 if k > 100 else 20)
        print(
            f"| {args.neurons} x {name} | {t_pa:.2f} | {t_pc:.3f} | {t_pcu:.3f} "
            f"| {t_qp:.0f} s ({t_qp / 3600:.1f} h; {per_neuron:.2f} s/neuron) "
            f"| {t_qp / t_pa:.0f}x | {gap:.1e} |"
        )


if __name__ == "__main__":
    main()

"""Networks with known, activated neurons: for exactness tests and benchmarks."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.utils import check_random_state

from skmorph.nn.networks import MorphologicalNetwork
from skmorph.nn.reparametrization import inverse_softplus

__all__ = ["activate_randomly"]


def activate_randomly(
    network: MorphologicalNetwork, random_state=None, scale: float = 40.0
) -> MorphologicalNetwork:
    """Set every neuron of ``network`` to a random activated erosion or dilation, in place.

    Each neuron gets a random non-empty element with weights in [1, 2], weights in
    ``[0, min(0.01, 1 / (2 k))]`` elsewhere (``k`` weights: their sum stays below 1/2, so the
    neuron is activated however many inputs it has), a bias in the middle of its activation
    interval and the threshold scale ``scale``, so that outputs are almost binary and every
    following neuron is activated for them: the float network thresholded at 1/2 then equals
    its binarization (in evaluation mode, under batch normalization). Requires the
    ``"positive"`` weight reparametrization and the ``"raw"`` or ``"softplus"`` bias one.

    ``random_state`` may be an int, a ``RandomState``, a NumPy ``Generator`` or None.
    """
    if isinstance(random_state, np.random.Generator):
        random_state = int(random_state.integers(2**32))
    rng = check_random_state(random_state)
    with torch.no_grad():
        for bank in network.neuron_banks():
            n, k = bank.n_neurons, bank.n_weights
            selem = rng.random_sample((n, k)) < rng.uniform(0.2, 0.7)
            selem[np.arange(n), rng.randint(0, k, n)] = True
            weights = np.where(selem, rng.uniform(1, 2, (n, k)),
                               rng.uniform(0, min(0.01, 1 / (2 * k)), (n, k)))
            outside = (weights * ~selem).sum(1)
            inside_min = np.where(selem, weights, np.inf).min(1)
            inside_sum = (weights * selem).sum(1)
            erosion = rng.random_sample(n) < 0.5
            bias = np.where(
                erosion,
                (weights.sum(1) - inside_min + inside_sum) / 2,
                (outside + inside_min) / 2,
            )
            dtype = bank.raw_weight.dtype
            w = torch.tensor(weights.reshape(n, *bank.weight_shape), dtype=dtype)
            bank.raw_weight.copy_(inverse_softplus(w))
            bank.set_bias_and_scale(torch.tensor(bias, dtype=dtype),
                                    torch.full((n,), float(scale), dtype=dtype))
    return network

"""The training loop shared by both estimators: a plain torch loop (Adam, mini-batches)."""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from skmorph.nn.networks import MorphologicalNetwork
from skmorph.nn.regularization import Regularizer, auto_update_every

__all__ = ["TrainingOptions", "native_bfloat16", "resolve_device", "torch_threads", "train"]


@dataclass
class TrainingOptions:
    """Optimization settings of :func:`train`.

    Attributes
    ----------
    max_epochs : int
    batch_size : int
    learning_rate : float
        Initial Adam learning rate.
    betas : (float, float)
        Adam betas.
    n_iter_no_change : int
        Epochs without improvement (of the validation score if there is validation data, else of
        the training loss) before stopping early, as in scikit-learn's ``MLPClassifier``.
    tol : float
        Minimum improvement that counts.
    schedule : {"plateau", "cosine"}
        ``"plateau"``: the learning rate is multiplied by ``lr_factor`` after ``lr_patience``
        epochs without improvement; ``"cosine"``: it decays from ``learning_rate`` to 0 along
        a half cosine over the ``max_epochs`` epochs, step by step (a fixed budget).
    lr_patience : int
        Epochs without improvement before the learning rate is halved (``lr_factor``).
    lr_factor : float
    verbose : int
        0: silent; 1: one line per epoch.
    logits : bool
        Give the loss function the logits of the last morphological layer
        (``network(X, logits=True)``) instead of its outputs in ``[0, 1]``.
    warmup_steps : int
        Steps over which the learning rate rises linearly from ``learning_rate / warmup_steps``
        to ``learning_rate`` before the schedule proper (the cosine decay then spans the
        remaining steps; the plateau rule starts after the warmup). A network whose head reads
        thousands of correlated binary features takes Adam steps that change its scores by
        ``learning_rate`` times the number of active features: the warmup keeps the first
        steps from throwing it far off.
    binarization_update_every : int or "auto"
        Under ``hidden_outputs="binarized"``, steps between recomputations of the binarized
        neurons (also recomputed at the end of training); ``"auto"``: from the number of
        weights, as for the regularization (:func:`skmorph.nn.regularization.
        auto_update_every`).
    augment : callable or None
        ``augment(batch, generator)`` returns the training batch the network learns from
        (:mod:`skmorph.nn.augmentation`); it draws its randomness from ``generator`` (the
        CPU generator of the shuffling), so that runs stay reproducible. Only training
        batches are augmented, never the validation data.
    precision : {"float32", "bfloat16"}
        The forward pass's arithmetic: ``"bfloat16"`` runs it under ``torch.autocast``
        (convolutions and matrix products in bfloat16, with float32 sums; the parameters,
        their gradients, the optimizer and the loss stay float32). On CPUs with AMX tiles and
        on recent GPUs it is much faster; elsewhere it can be slower.
    """

    max_epochs: int = 50
    batch_size: int = 64
    learning_rate: float = 1e-2
    betas: tuple[float, float] = (0.9, 0.999)
    n_iter_no_change: int = 10
    tol: float = 1e-4
    schedule: str = "plateau"
    lr_patience: int = 5
    lr_factor: float = 0.5
    verbose: int = 0
    logits: bool = False
    warmup_steps: int = 0
    binarization_update_every: int | str = "auto"
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None
    precision: str = "float32"


def _fusable(network: nn.Module) -> bool:
    """Whether Adam can update ``network`` in one fused kernel per step: float parameters on
    the CPU or a CUDA device. Fused, an update costs a fraction of torch's separate
    elementwise passes over every parameter tensor: a training step of the image classifier's
    default network is 4% faster, 19% with a DenseLUI 256 layer before its head, 1.6x on a
    DenseLUI 1568 -> 512 network (benchmarks/README.md, "Adam fused")."""
    parameters = list(network.parameters())
    return bool(parameters) and all(
        p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in parameters
    )


def resolve_device(device) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; ``"cpu"``/``"cuda"``/``torch.device`` as is."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {device!r}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available")
    return device


def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` computes bfloat16 convolutions and matrix products natively, so that
    ``precision="bfloat16"`` trains faster than float32: a CUDA device that supports bfloat16,
    or a CPU with AMX tiles (Intel Xeon from Sapphire Rapids on, where oneDNN runs them on the
    tiles; elsewhere bfloat16 on a CPU is emulated, and slower)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    # torch exposes the CPU's capabilities under private names only; without them, no
    amx = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return device.type == "cpu" and amx is not None and bool(amx())


@contextmanager
def torch_threads():
    """Run torch with the thread budget of the process.

    Under joblib (``GridSearchCV(n_jobs=k)``) workers get ``OMP_NUM_THREADS = cpus // k``; torch
    is told to use that many threads, so that ``k`` workers do not oversubscribe the cores. The
    previous setting is restored afterwards.
    """
    previous = torch.get_num_threads()
    budget = os.environ.get("OMP_NUM_THREADS")
    try:
        if budget and budget.isdigit() and int(budget) > 0:
            torch.set_num_threads(int(budget))
        yield
    finally:
        torch.set_num_threads(previous)


def _batches(n: int, batch_size: int, generator: torch.Generator):
    order = torch.randperm(n, generator=generator)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def train(
    network: MorphologicalNetwork,
    loss_function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    X: torch.Tensor,
    Y: torch.Tensor,
    *,
    options: TrainingOptions,
    regularizer: Regularizer,
    generator: torch.Generator,
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
    score: Callable[[nn.Module, torch.Tensor, torch.Tensor], float] | None = None,
    history: list[dict] | None = None,
) -> list[dict]:
    """Train ``network`` in place and return the per-epoch history.

    Parameters
    ----------
    network : MorphologicalNetwork
        Already on the device of ``X``.
    loss_function : callable
        ``loss_function(network(X_batch), Y_batch)`` is the data loss (the network's logits
        instead of its outputs with ``options.logits``).
    X, Y : tensors
        Training inputs and targets (same device as the network).
    options : TrainingOptions
    regularizer : Regularizer
    generator : torch.Generator
        CPU generator for the shuffling; with the same seed two runs give identical weights on CPU.
    validation : (X_val, Y_val), optional
        Held-out data for early stopping; the weights of the best epoch are restored at the end.
    score : callable, optional
        ``score(network, X_val, Y_val)``, higher is better. Required with ``validation``.
    history : list of dict, optional
        Appended to (``warm_start``); a new list otherwise.

    Returns
    -------
    list of dict
        One entry per epoch: ``epoch``, ``loss`` (total), ``data_loss``, ``regularization``,
        ``activated_fraction`` (and ``activated_by_bank``, one fraction per bank of
        neurons, in the order of :meth:`MorphologicalNetwork.neuron_banks`),
        ``validation_score``, ``learning_rate``, ``seconds``.

    Raises
    ------
    FloatingPointError
        If the loss becomes NaN or infinite (checked at every step), or a parameter does
        (checked after every epoch): the training diverged.
    """
    history = [] if history is None else history
    optimizer = torch.optim.Adam(
        network.parameters(), lr=options.learning_rate, betas=tuple(options.betas),
        fused=_fusable(network),
    )
    warmup = int(options.warmup_steps)
    if options.schedule == "cosine":
        steps = options.max_epochs * math.ceil(X.shape[0] / options.batch_size)
        if warmup:
            cosine = torch.optim.lr_scheduler.LambdaLR(
                optimizer, lambda step: _warmup_cosine(step, warmup, steps))
        else:
            cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
        scheduler = None
    else:
        cosine = None
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=options.lr_factor, patience=options.lr_patience
        )
    banks = network.neuron_banks()
    refresh_every = _binarization_refresh(options, banks)
    step = sum(entry.get("steps", 0) for entry in history)
    first_step = step
    best_value, best_state, epochs_without_improvement = -math.inf, None, 0
    first_epoch = len(history) + 1
    for epoch in range(first_epoch, first_epoch + options.max_epochs):
        start = time.perf_counter()
        network.train()
        totals = {"loss": 0.0, "data_loss": 0.0, "regularization": 0.0}
        n_batches = 0
        for index in _batches(X.shape[0], options.batch_size, generator):
            index = index.to(X.device)
            batch = X[index] if options.augment is None else options.augment(X[index], generator)
            with torch.autocast(X.device.type, dtype=torch.bfloat16,
                                enabled=options.precision == "bfloat16"):
                outputs = network(batch, logits=options.logits)
            data_loss = loss_function(outputs.float(), Y[index])
            penalty = regularizer(banks, step)
            loss = data_loss + penalty
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the training loss became {loss.item()} at epoch {epoch}, step {step}; "
                    "lower learning_rate or regularization_weight"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cosine is None and step - first_step < warmup:
                for group in optimizer.param_groups:
                    group["lr"] = options.learning_rate * (step - first_step + 1) / warmup
            optimizer.step()
            if cosine is not None:
                cosine.step()
            network.project_()
            step += 1
            if refresh_every and step % refresh_every == 0:
                network.refresh_binarization()
            n_batches += 1
            totals["loss"] += loss.item()
            totals["data_loss"] += data_loss.item()
            totals["regularization"] += float(torch.as_tensor(penalty).detach())
        _check_finite_parameters(network, epoch, step)
        entry = {"epoch": epoch, "steps": n_batches}
        entry.update({key: value / max(n_batches, 1) for key, value in totals.items()})
        network.eval()
        counts = network.activated_counts()
        entry["activated_fraction"] = network.activated_fraction(counts)
        entry["activated_by_bank"] = [activated / max(n, 1) for activated, n in counts]
        entry["validation_score"] = None
        if validation is not None:
            with torch.no_grad():
                entry["validation_score"] = float(score(network, *validation))
            monitored = entry["validation_score"]
        else:
            monitored = -entry["loss"]
        entry["learning_rate"] = optimizer.param_groups[0]["lr"]
        if scheduler is not None and step - first_step >= warmup:
            scheduler.step(-monitored)
        if monitored > best_value + options.tol:
            best_value, epochs_without_improvement = monitored, 0
            if validation is not None:
                best_state = copy.deepcopy(network.state_dict())
        else:
            epochs_without_improvement += 1
        entry["seconds"] = time.perf_counter() - start
        history.append(entry)
        if options.verbose:
            print(_progress_line(entry), flush=True)
        if epochs_without_improvement >= options.n_iter_no_change:
            if options.verbose:
                print(f"stopping: no improvement for {options.n_iter_no_change} epochs")
            break
    if best_state is not None:
        network.load_state_dict(best_state)
    if refresh_every:  # the binarized forward pass of the final weights
        network.refresh_binarization()
    return history


def _warmup_cosine(step: int, warmup: int, steps: int) -> float:
    """Learning-rate factor: linear from ``1 / warmup`` to 1 over the first ``warmup`` steps,
    then a half cosine from 1 to 0 over the remaining ones."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(steps - warmup, 1)))


def _binarization_refresh(options: TrainingOptions, banks) -> int:
    """Steps between refreshes of the binarized neurons; 0 without binarized banks."""
    binarized = [bank for bank in banks if bank.binarized_forward]
    if not binarized:
        return 0
    if options.binarization_update_every != "auto":
        return int(options.binarization_update_every)
    kind = "activable" if binarized[0].binarization_method == "activable" else "constant"
    return auto_update_every(kind, sum(b.n_neurons * b.n_weights for b in binarized))


def _check_finite_parameters(network: nn.Module, epoch: int, step: int) -> None:
    for name, parameter in network.named_parameters():
        if not torch.isfinite(parameter).all():
            raise FloatingPointError(
                f"the training diverged: parameter {name!r} became NaN or infinite during "
                f"epoch {epoch} (step {step}); lower learning_rate or regularization_weight"
            )


def _progress_line(entry: dict) -> str:
    line = (
        f"epoch {entry['epoch']:4d}  loss {entry['loss']:.5f}  data {entry['data_loss']:.5f}  "
        f"reg {entry['regularization']:.5f}  activated {entry['activated_fraction']:.1%}"
    )
    by_bank = entry.get("activated_by_bank", [])
    if len(by_bank) > 1:
        line += " (" + " ".join(f"{fraction:.0%}" for fraction in by_bank) + ")"
    if entry["validation_score"] is not None:
        line += f"  validation {entry['validation_score']:.4f}"
    return line + f"  lr {entry['learning_rate']:.2g}  {entry['seconds']:.1f}s"

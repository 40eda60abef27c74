"""Discrete search over binarized operators, on packed training pairs (NumPy only).

A binarized image operator (a stack of :class:`~skmorph.binary.BinaryConv` layers) is cheap to
evaluate on packed bits, so its discrete neighbourhood can be searched directly: flip one pixel
of a structuring element, switch an erosion to a dilation, add or drop a channel of a
union/intersection, switch a union to an intersection. Every candidate is a binary
morphological operator, so whatever the search keeps is binarized exactly by construction.
:func:`polish` keeps the moves that raise the mean Dice on the given pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from skmorph.binary.layers import BinaryConv, Thresholds
from skmorph.morphology.bitpack import PackedImage, combine_shifts, pack
from skmorph.morphology.operations import selem_offsets

__all__ = ["PackedPairs", "PolishResult", "polish", "run_layers"]


class PackedPairs:
    """Image pairs on packed bits: the network's binary inputs and the target images.

    Parameters
    ----------
    inputs : PackedImage, shape (n, C_in, H, W)
        The inputs of the first convolutional layer (level sets and complements).
    targets : PackedImage, shape (n, C_out, H, W)
    """

    def __init__(self, inputs: PackedImage, targets: PackedImage):
        if inputs.shape[0] != targets.shape[0] or inputs.shape[2:] != targets.shape[2:]:
            raise ValueError(
                f"inputs and targets must hold as many images of the same size, got "
                f"{inputs.shape} and {targets.shape}"
            )
        self.inputs, self.targets = inputs, targets
        self._target_counts = targets.count().sum(axis=1)

    @classmethod
    def from_images(cls, thresholds: Thresholds, images: np.ndarray, targets: np.ndarray):
        """Pairs from ``(n, C, H, W)`` images (encoded by ``thresholds``) and binary targets."""
        return cls(thresholds.packed_images(images), pack(np.asarray(targets, dtype=bool)))

    def dice(self, output: PackedImage) -> float:
        """Mean over the images of the Dice coefficient of ``output`` (1 for two empty images),
        as :func:`skmorph.binary.dice_scores` computes it on unpacked images."""
        overlap = np.bitwise_count(output.words & self.targets.words).sum(
            axis=(1, 2, 3), dtype=np.int64)
        total = output.count().sum(axis=1) + self._target_counts
        return float(np.where(total == 0, 1.0, 2 * overlap / np.maximum(total, 1)).mean())


def run_layers(layers: list[BinaryConv], inputs: PackedImage) -> PackedImage:
    """The output of a stack of binary convolutional layers."""
    for layer in layers:
        inputs = layer(inputs)
    return inputs


@dataclass
class PolishResult:
    """What :func:`polish` did: the polished layers, the scores before and after, the moves kept
    (readable strings), and the number of operators evaluated."""

    layers: list[BinaryConv]
    score_before: float
    score_after: float
    moves: list[str] = field(default_factory=list)
    n_evaluated: int = 0


class _Operator:
    """A mutable copy of a stack of BinaryConv layers that re-evaluates only what a move changes.

    ``terms[l][j, i]`` caches ``op_ji(x_i)`` of layer ``l`` (packed words), ``outputs[l]`` the
    layer's output; a move at layer ``l`` recomputes the terms it touches, the output channels
    that read them, and everything downstream.
    """

    def __init__(self, layers: list[BinaryConv], inputs: PackedImage):
        self.width = inputs.width
        self.padding = [layer.padding for layer in layers]
        self.selems = [layer.selems.copy() for layer in layers]
        self.operations = [layer.operations.copy() for layer in layers]
        self.active = [layer.active.copy() for layer in layers]
        self.combine = [layer.combine.copy() for layer in layers]
        self.inputs = inputs.words
        self.terms = [dict() for _ in layers]
        self.outputs = [None] * len(layers)
        self.refresh(0)

    def layer_input(self, index: int) -> np.ndarray:
        return self.inputs if index == 0 else self.outputs[index - 1]

    def term(self, index: int, j: int, i: int) -> np.ndarray:
        key = (j, i)
        if key not in self.terms[index]:
            reduce = "or" if self.operations[index][j, i] == "dilation" else "and"
            channel = PackedImage(self.layer_input(index)[:, i], self.width)
            offsets = selem_offsets(self.selems[index][j, i])
            self.terms[index][key] = combine_shifts(
                channel, offsets, reduce, self.padding[index]).words
        return self.terms[index][key]

    def channel(self, index: int, j: int) -> np.ndarray:
        sources = np.flatnonzero(self.active[index][j])
        conjunction = self.combine[index][j] == "and"
        if sources.size == 0:  # the empty union is empty, the empty intersection full
            empty = np.zeros_like(self.layer_input(index)[:, 0])
            return (~PackedImage(empty, self.width)).words if conjunction else empty
        reduce = np.bitwise_and if conjunction else np.bitwise_or
        result = self.term(index, j, sources[0]).copy()
        for i in sources[1:]:
            reduce(result, self.term(index, j, i), out=result)
        return result

    def recombine(self, index: int, channels) -> None:
        if self.outputs[index] is None:
            n, _, height, words = self.layer_input(index).shape
            self.outputs[index] = np.empty(
                (n, self.active[index].shape[0], height, words), dtype=np.uint64)
        for j in channels:
            self.outputs[index][:, j] = self.channel(index, j)

    def refresh(self, start: int, changed_inputs=None) -> None:
        """Recompute layers from ``start`` on; at ``start`` only the terms reading
        ``changed_inputs`` (all when ``None``)."""
        for index in range(start, len(self.selems)):
            if index == start and changed_inputs is not None:
                self.terms[index] = {key: value for key, value in self.terms[index].items()
                                     if key[1] not in changed_inputs}
            else:
                self.terms[index] = {}
            self.outputs[index] = self.outputs[index] if index == start else None
            self.recombine(index, range(self.active[index].shape[0]))

    def output(self) -> PackedImage:
        return PackedImage(self.outputs[-1], self.width)

    def changed(self, index: int, j: int, i: int | None) -> None:
        """After a move at layer ``index``, output ``j`` (term ``(j, i)`` when not None)."""
        if i is not None:
            self.terms[index].pop((j, i), None)
        self.recombine(index, [j])
        if index + 1 < len(self.selems):
            self.refresh(index + 1, changed_inputs={j})

    def layers(self) -> list[BinaryConv]:
        return [BinaryConv(*fields) for fields in zip(
            self.selems, self.operations, self.active, self.combine, self.padding, strict=True)]


def _moves(operator: _Operator):
    """Every move of the neighbourhood, as (layer, output, input or None, kind, pixel)."""
    for index, selems in enumerate(operator.selems):
        out_channels, in_channels, height, width = selems.shape
        for j in range(out_channels):
            for i in range(in_channels):
                if in_channels > 1:  # a single input is always read (no LUI to drop it)
                    yield index, j, i, "active", None
                if operator.active[index][j, i]:
                    yield index, j, i, "operation", None
                    for pixel in range(height * width):
                        yield index, j, i, "pixel", pixel
            if operator.active[index][j].sum() > 1:
                yield index, j, None, "combine", None


def _apply(operator: _Operator, move) -> bool:
    """Apply ``move`` in place (its own inverse); False when it would make an empty element."""
    index, j, i, kind, pixel = move
    if kind == "active":
        if operator.active[index][j, i] and operator.active[index][j].sum() == 1:
            return False  # every output reads at least one input
        operator.active[index][j, i] = not operator.active[index][j, i]
    elif kind == "operation":
        current = operator.operations[index][j, i]
        operator.operations[index][j, i] = "erosion" if current == "dilation" else "dilation"
    elif kind == "pixel":
        flat = operator.selems[index][j, i].reshape(-1)
        if flat[pixel] and flat.sum() == 1:
            return False
        flat[pixel] = not flat[pixel]
    else:
        operator.combine[index][j] = "and" if operator.combine[index][j] == "or" else "or"
    operator.changed(index, j, i if kind in ("operation", "pixel") else None)
    return True


def _describe(move, operator: _Operator) -> str:
    index, j, i, kind, pixel = move
    where = f"layer {index}, output {j}" + ("" if i is None else f", input {i}")
    if kind == "pixel":
        height, width = operator.selems[index].shape[2:]
        row, column = divmod(pixel, width)
        state = "added" if operator.selems[index][j, i].reshape(-1)[pixel] else "removed"
        return f"{where}: pixel ({row - height // 2}, {column - width // 2}) {state}"
    if kind == "operation":
        return f"{where}: now a {operator.operations[index][j, i]}"
    if kind == "active":
        return f"{where}: input {'added' if operator.active[index][j, i] else 'dropped'}"
    return f"{where}: now an {'intersection' if operator.combine[index][j] == 'and' else 'union'}"


def polish(layers: list[BinaryConv], pairs: PackedPairs, *, max_evaluations: int = 5000,
           random_state=None) -> PolishResult:
    """Improve a binarized operator by single moves, each kept when it raises the mean Dice.

    Sweeps the neighbourhood of the operator (erosion vs dilation, every channel of every
    union/intersection, union vs intersection, then every pixel of every active element), each
    kind in a random order, keeping each move that strictly raises the Dice on ``pairs``,
    until a sweep keeps nothing or ``max_evaluations`` operators were evaluated. The score
    can only rise.

    Parameters
    ----------
    layers : list of BinaryConv
    pairs : PackedPairs
    max_evaluations : int, default=5000
    random_state : int, numpy Generator or None
        The order of the moves.

    Returns
    -------
    PolishResult
    """
    rng = np.random.default_rng(random_state)
    operator = _Operator(layers, pairs.inputs)
    best = before = pairs.dice(operator.output())
    kept, evaluated = [], 0
    improved = True
    while improved and evaluated < max_evaluations:
        improved = False
        moves = list(_moves(operator))
        # coarse to fine: the structural moves of a sweep before its pixel flips
        structural = [move for move in moves if move[3] != "pixel"]
        pixels = [move for move in moves if move[3] == "pixel"]
        ordered = [structural[k] for k in rng.permutation(len(structural))] + [
            pixels[k] for k in rng.permutation(len(pixels))]
        for move in ordered:
            if evaluated >= max_evaluations:
                break
            if move[3] == "pixel" and not operator.active[move[0]][move[1], move[2]]:
                continue  # the element's term was dropped earlier in this sweep
            if not _apply(operator, move):
                continue
            evaluated += 1
            score = pairs.dice(operator.output())
            if score > best + 1e-12:
                best, improved = score, True
                kept.append(_describe(move, operator))
            else:
                _apply(operator, move)  # undo
    return PolishResult(operator.layers(), before, best, kept, evaluated)

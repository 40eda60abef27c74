"""Small morphological programs scored on packed training pairs, before any gradient step.

A program of one or two layers of erosions and dilations by the elements of
:mod:`skmorph.morphology`'s constructors, its branches combined by a union or an intersection,
is evaluated in milliseconds on packed bits. :func:`search_programs` scores thousands of them
and returns the best as :class:`~skmorph.binary.BinaryConv` layers shaped like a given network,
so that it can start (or be) the learned operator. Gradient descent can then shape elements that
no dictionary holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skmorph.binary.layers import BinaryConv
from skmorph.binary.search import PackedPairs
from skmorph.morphology.bitpack import PackedImage, combine_shifts
from skmorph.morphology.operations import selem_offsets
from skmorph.morphology.selem import cross, diamond, disk, line, pad_selem, square

__all__ = [
    "Program",
    "describe_operator",
    "element_dictionary",
    "program_layers",
    "search_programs",
]

_OPERATIONS = ("erosion", "dilation")
_SHORTLIST = 48  # branches per combination kind kept for the pair search


def element_dictionary(size: int) -> list[tuple[str, np.ndarray]]:
    """Named structuring elements that fit a ``size x size`` window, padded to it.

    The centre pixel (the identity), squares, disks, diamonds, plain and diagonal crosses, and
    lines at 0, 45, 90 and 135 degrees, every size from 3 up to ``size``; duplicates dropped.
    """
    shapes = [("identity", np.ones((1, 1), bool))]
    for side in range(3, size + 1, 2):
        radius = side // 2
        shapes += [(f"square({side})", square(side)), (f"disk({radius})", disk(radius)),
                   (f"diamond({radius})", diamond(radius)), (f"cross({side})", cross(side)),
                   (f"cross({side}, diagonal)", cross(side, True))]
        shapes += [(f"line({side}, {angle})", line(side, angle)) for angle in (0, 45, 90, 135)]
    elements, seen = [], set()
    for name, shape in shapes:
        padded = pad_selem(shape, (size, size))
        if padded.tobytes() not in seen:
            seen.add(padded.tobytes())
            elements.append((name, padded))
    return elements


@dataclass(frozen=True)
class Branch:
    """``second(first(x[source], first_element), second_element)``; one layer: no second."""

    source: int
    first: str
    first_element: int
    second: str | None = None
    second_element: int | None = None


@dataclass
class Program:
    """A union or intersection of branches, and its mean Dice on the pairs it was scored on."""

    branches: tuple[Branch, ...]
    combine: str
    score: float


class _Scorer:
    """Per-image overlap and size of candidate outputs against the targets."""

    def __init__(self, pairs: PackedPairs):
        self.pairs = pairs
        self.target = pairs.targets.words[:, 0].reshape(pairs.targets.shape[0], -1)
        self.target_count = pairs.targets.count()[:, 0]

    def stats(self, words: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per image: pixels in common with the target, and pixels set."""
        flat = words.reshape(words.shape[0], -1)
        overlap = np.bitwise_count(flat & self.target).sum(axis=1, dtype=np.int64)
        count = np.bitwise_count(flat).sum(axis=1, dtype=np.int64)
        return overlap, count

    def dice(self, overlap: np.ndarray, count: np.ndarray) -> float:
        total = count + self.target_count
        return float(np.where(total == 0, 1.0, 2 * overlap / np.maximum(total, 1)).mean())

    def weighted(self, overlap, count, beta: float) -> float:
        """F-beta over all pixels: beta > 1 favours covering the target (recall)."""
        overlap, count, target = overlap.sum(), count.sum(), self.target_count.sum()
        precision = overlap / max(count, 1)
        recall = overlap / max(target, 1)
        if precision + recall == 0:
            return 0.0
        return float((1 + beta**2) * precision * recall / (beta**2 * precision + recall))


def _apply(words: np.ndarray, width: int, operation: str, element: np.ndarray,
           padding: str) -> np.ndarray:
    reduce = "and" if operation == "erosion" else "or"
    return combine_shifts(PackedImage(words, width), selem_offsets(element), reduce,
                          padding).words


def search_programs(pairs: PackedPairs, *, n_layers: int, n_branches: int,
                    kernel_sizes, padding: str) -> Program | None:
    """The best small program on ``pairs`` for a network of ``n_layers`` BiSEL layers whose
    last hidden layer has ``n_branches`` channels (one output channel).

    One layer: unions/intersections of erosions/dilations of the input channels. Two layers:
    unions/intersections of up to ``n_branches`` branches, each an erosion or dilation of an
    erosion or dilation of one input channel (openings, closings, the identity, ...). Single
    branches are scored exhaustively over :func:`element_dictionary`; pairs among the branches
    that best cover the target (for intersections) or best avoid its complement (for unions);
    further branches are added greedily. Returns ``None`` for other shapes of network.
    """
    if pairs.targets.shape[1] != 1 or n_layers not in (1, 2):
        return None
    scorer = _Scorer(pairs)
    words, width = pairs.inputs.words, pairs.inputs.width
    dictionaries = [element_dictionary(size) for size in kernel_sizes]
    first = {}
    for source in range(words.shape[1]):
        for operation in _OPERATIONS:
            for index, (_, element) in enumerate(dictionaries[0]):
                first[Branch(source, operation, index)] = _apply(
                    words[:, source], width, operation, element, padding)

    def output(branch: Branch) -> np.ndarray:
        image = first[Branch(branch.source, branch.first, branch.first_element)]
        if branch.second is None:
            return image
        element = dictionaries[1][branch.second_element][1]
        return _apply(image, width, branch.second, element, padding)

    branches = list(first)
    if n_layers == 2:
        branches = [Branch(b.source, b.first, b.first_element, operation, index)
                    for b in first for operation in _OPERATIONS
                    for index in range(len(dictionaries[1]))]
    identities = list({branch.source: branch for branch in branches
                       if _is_identity(branch, dictionaries)}.values())  # one per channel
    limit = n_branches if n_layers == 2 else words.shape[1]
    anchors = {branch: output(branch) for branch in identities} if limit > 1 else {}
    # only statistics are kept for every branch (their images would take n_branches times the
    # packed pairs); the images of the shortlisted branches are computed again below. Every
    # branch is also tried with each input channel passed through (a top-hat keeps X through
    # one branch): an exhaustive search of those pairs at the cost of a few bitwise operations
    stats = {anchor: scorer.stats(image) for anchor, image in anchors.items()}
    best = None
    for branch in branches:
        image = output(branch)
        stats[branch] = scorer.stats(image)
        candidates = [Program((branch,), "or", scorer.dice(*stats[branch]))]
        for anchor, anchor_image in anchors.items():
            if branch == anchor or (n_layers == 1 and branch.source == anchor.source):
                continue
            # union from intersection: |a or b| = |a| + |b| - |a and b|, likewise overlaps
            both = scorer.stats(image & anchor_image)
            union = [x + y - z for x, y, z in zip(stats[branch], stats[anchor], both,
                                                   strict=True)]
            candidates.append(Program((anchor, branch), "and", scorer.dice(*both)))
            candidates.append(Program((anchor, branch), "or", scorer.dice(*union)))
        for candidate in candidates:
            if best is None or candidate.score > best.score:
                best = candidate
    for combine in ("and", "or"):
        shortlist = _shortlist(stats, scorer, combine, identities)
        images = {branch: output(branch) for branch in shortlist}
        program = _grow(shortlist, images, scorer, combine, limit, n_layers)
        if program is not None and program.score > best.score:
            best = program
    return best


def _is_identity(branch: Branch, dictionaries) -> bool:
    """The branch passes its input channel through (every element the centre pixel)."""
    names = [dictionaries[0][branch.first_element][0]]
    if branch.second is not None:
        names.append(dictionaries[1][branch.second_element][0])
    return all(name == "identity" for name in names)


def _shortlist(stats: dict, scorer: _Scorer, combine: str, identities: list) -> list:
    """Branches worth combining. An intersection needs branches that cover the target (high
    recall), a union branches that stay inside it (high precision): the best of each by an
    F-score weighted that way, the best of those that (almost) never miss, and the input
    channels themselves (a top-hat keeps the input through one branch)."""
    beta = 4.0 if combine == "and" else 0.25
    by_f = sorted(stats, key=lambda b: -scorer.weighted(*stats[b], beta))[:_SHORTLIST]

    def safe(branch):  # recall (intersections) or precision (unions) at least 0.999
        overlap, count = (value.sum() for value in stats[branch])
        if combine == "and":
            return overlap >= 0.999 * scorer.target_count.sum()
        return overlap >= 0.999 * count

    def rank(branch):  # then as precise (intersections) or as complete (unions) as possible
        overlap, count = (value.sum() for value in stats[branch])
        return -(overlap / max(count, 1)) if combine == "and" else -overlap

    by_safety = sorted(filter(safe, stats), key=rank)[:_SHORTLIST]
    return list(dict.fromkeys([*identities, *by_f, *by_safety]))


def _grow(ranked, outputs, scorer, combine, limit, n_layers) -> Program | None:
    """Best pair of ``ranked`` branches, then branches added greedily while the score rises,
    then single branches swapped for others while that raises it."""
    reduce = np.bitwise_and if combine == "and" else np.bitwise_or
    if limit < 2:
        return None

    def allowed(branches) -> bool:  # one term per input channel in a one-layer network
        sources = [branch.source for branch in branches]
        return n_layers == 2 or len(set(sources)) == len(sources)

    def score(branches) -> float:
        words = outputs[branches[0]]
        for branch in branches[1:]:
            words = reduce(words, outputs[branch])
        return scorer.dice(*scorer.stats(words))

    best = None
    for position, first in enumerate(ranked):
        for second in ranked[position + 1:]:
            if allowed((first, second)):
                candidate = Program((first, second), combine, score((first, second)))
                if best is None or candidate.score > best.score:
                    best = candidate
    improved = best is not None
    while improved:
        improved = False
        options = []
        if len(best.branches) < limit:
            options += [(*best.branches, branch) for branch in ranked]
        for position in range(len(best.branches)):
            options += [(*best.branches[:position], branch, *best.branches[position + 1:])
                        for branch in ranked]
        for branches in options:
            if len(set(branches)) == len(branches) and allowed(branches):
                value = score(branches)
                if value > best.score + 1e-12:
                    best, improved = Program(branches, combine, value), True
    return best


def program_layers(program: Program, *, n_inputs: int, hidden_channels, kernel_sizes,
                   padding: str) -> list[BinaryConv]:
    """``program`` as BinaryConv layers shaped like a network with ``hidden_channels`` (one
    output channel). Hidden channels beyond the program's branches copy the first branch and
    are not read by the output."""
    sizes = list(kernel_sizes)
    dictionaries = [element_dictionary(size) for size in sizes]
    branches = list(program.branches)
    if not hidden_channels:  # one layer: one term per input channel
        selems = np.zeros((1, n_inputs, sizes[0], sizes[0]), bool)
        selems[..., sizes[0] // 2, sizes[0] // 2] = True
        operations = np.full((1, n_inputs), "dilation")
        active = np.zeros((1, n_inputs), bool)
        for branch in branches:
            selems[0, branch.source] = dictionaries[0][branch.first_element][1]
            operations[0, branch.source] = branch.first
            active[0, branch.source] = True
        return [BinaryConv(selems, operations, active, [program.combine], padding)]
    (n_hidden,) = hidden_channels
    used = [branches[h] if h < len(branches) else branches[0] for h in range(n_hidden)]
    first = np.zeros((n_hidden, n_inputs, sizes[0], sizes[0]), bool)
    first[..., sizes[0] // 2, sizes[0] // 2] = True
    first_operations = np.full((n_hidden, n_inputs), "dilation")
    first_active = np.zeros((n_hidden, n_inputs), bool)
    second = np.zeros((1, n_hidden, sizes[1], sizes[1]), bool)
    second_operations = np.empty((1, n_hidden), dtype="<U8")
    for h, branch in enumerate(used):
        first[h, branch.source] = dictionaries[0][branch.first_element][1]
        first_operations[h, branch.source] = branch.first
        first_active[h, branch.source] = True
        second[0, h] = dictionaries[1][branch.second_element][1]
        second_operations[0, h] = branch.second
    if n_inputs == 1:
        first_active[:] = True
    second_active = np.arange(n_hidden)[None] < len(branches)
    if n_hidden == 1:
        second_active[:] = True
    return [
        BinaryConv(first, first_operations, first_active, ["or"] * n_hidden, padding),
        BinaryConv(second, second_operations, second_active, [program.combine], padding),
    ]


def _element_name(element: np.ndarray, names: dict) -> str:
    size = element.shape[0]
    if size not in names:
        names[size] = {padded.tobytes(): name for name, padded in element_dictionary(size)}
    name = names[size].get(element.tobytes())
    if name is not None:
        return name
    rows = ["".join("#" if bit else "." for bit in row) for row in element]
    return "[" + "/".join(rows) + "]"


def _apply_name(operation: str, inner, element: str):
    """The expression of ``operation(inner, element)``; ``inner`` is a name or a tuple
    ``(operation, name, element)`` of a single operation on a name."""
    if element == "identity":
        return inner
    if isinstance(inner, tuple) and inner[2] == element and inner[0] != operation:
        kind = "opening" if inner[0] == "erosion" else "closing"
        name = inner[1]
        if name.startswith("NOT "):  # closing(NOT X) = NOT opening(X), and the reverse
            other = "closing" if kind == "opening" else "opening"
            return f"NOT {other}({name[4:]}, {element})"
        return f"{kind}({name}, {element})"
    text = inner if isinstance(inner, str) else f"{inner[0]}({inner[1]}, {inner[2]})"
    return (operation, text, element)


def _text(expression) -> str:
    return expression if isinstance(expression, str) else \
        f"{expression[0]}({expression[1]}, {expression[2]})"


def describe_operator(layers: list[BinaryConv], input_names: list[str]) -> list[str]:
    """One formula per output channel of a stack of binary convolutional layers, in
    :mod:`skmorph.morphology`'s terms: ``"X AND NOT opening(X, disk(3))"``.

    Elements of :func:`element_dictionary` are named (``disk(3)``, ``line(7, 0)``, ...), others
    drawn row by row (``[.#./###/.#.]``). An erosion followed by a dilation by the same element
    reads as an opening, the reverse as a closing, and elements of one pixel as the identity.
    Dilation elements are read in the layers' correlation convention; for the symmetric
    elements of the dictionary it is skmorph.morphology's too.
    """
    names: dict = {}
    expressions = list(input_names)
    for index, layer in enumerate(layers):
        outputs = []
        for j in range(layer.out_channels):
            terms = []
            for i in np.flatnonzero(layer.active[j]):
                element = _element_name(layer.selems[j, i], names)
                terms.append(_apply_name(str(layer.operations[j, i]), expressions[i], element))
            if len(terms) == 1:
                outputs.append(terms[0])
            else:
                joiner = " AND " if layer.combine[j] == "and" else " OR "
                texts = [_text(term) for term in terms]
                inner = index + 1 < len(layers)  # parenthesized inside a later layer
                outputs.append(f"({joiner.join(texts)})" if inner else joiner.join(texts))
        expressions = outputs
    return [_text(expression) for expression in expressions]

"""Binarized layers: NumPy only, computing on packed bits.

Dense layers work in a *feature-major* bit layout: a batch of ``n`` samples with ``F`` binary
features is an array of shape ``(F, ceil(n / 64))`` of ``uint64`` words, each feature a bit-vector
over the samples. An OR (dilation) unit over the support ``S`` is then the OR of ``|S|`` rows,
an AND (erosion) unit the AND: ``sum |S| * n / 64`` word operations for the layer. Counting
strategies (float32 BLAS on 0/1 matrices, exact below 2**24, or popcounts) serve large supports,
tiny batches and units with a general count threshold.

Convolutional layers work on images packed row-wise (:class:`skmorph.morphology.PackedImage`).
"""

from __future__ import annotations

import base64

import numpy as np

from skmorph.morphology.bitpack import PackedImage, column_shifts, combine_shifts, pack
from skmorph.morphology.operations import selem_offsets

__all__ = [
    "BinaryConv",
    "BinaryDense",
    "BinaryPooling",
    "LinearHead",
    "Thresholds",
    "pack_samples",
    "unpack_samples",
]

_WORD = 64
# words of one image channel up to which the outputs of one reduction are gathered together
# (small images: few NumPy calls); larger images take combine_shifts per term (long runs)
_GATHER_MAX_WORDS = 1 << 12
# words gathered at once when the outputs of one reduction are gathered in groups
_GATHER_WORDS = 1 << 22
# samples per block of a float head: the block's float features stay in cache
_HEAD_STEP = 16 * _WORD


def pack_samples(bits: np.ndarray) -> np.ndarray:
    """Feature-major packing: bool ``(n_features, n_samples)`` -> ``uint64`` words."""
    n_features, n_samples = bits.shape
    n_bytes = -(-n_samples // _WORD) * 8
    packed = np.zeros((n_features, n_bytes), dtype=np.uint8)
    packed[:, : -(-n_samples // 8)] = np.packbits(bits, axis=1, bitorder="little")
    return packed.view(np.uint64)


def pack_sample_rows(bits: np.ndarray) -> np.ndarray:
    """Feature-major packing of sample-major bits: bool ``(n_samples, n_features)`` -> words
    ``(n_features, ceil(n_samples / 64))``, without transposing the boolean array."""
    n_samples, n_features = bits.shape
    n_bytes = -(-n_samples // _WORD) * 8
    packed = np.zeros((n_bytes, n_features), dtype=np.uint8)
    packed[: -(-n_samples // 8)] = np.packbits(bits, axis=0, bitorder="little")
    return np.ascontiguousarray(packed.T).view(np.uint64)


def unpack_samples(words: np.ndarray, n_samples: int) -> np.ndarray:
    """Inverse of :func:`pack_samples`: ``(n_features, n_samples)`` booleans."""
    bits = np.unpackbits(words.view(np.uint8), axis=1, count=n_samples, bitorder="little")
    return bits.view(bool)


class _Layer:
    def __repr__(self) -> str:
        return f"<{self.describe().splitlines()[0]}>"


def _level_set(plane: np.ndarray, level: float) -> np.ndarray:
    """``plane > level``; a boolean plane is its own level set for levels in [0, 1) (no float
    comparison: binary images, e.g. chunks of a large mask, are packed as they are)."""
    if plane.dtype != bool:
        return plane > level
    if 0 <= level < 1:
        return plane
    return np.full(plane.shape, level < 0)


class Thresholds(_Layer):
    """Input binarization: bit ``(f, l)`` is ``x_f > thresholds[f, l]`` (NaN: unused level).

    For tabular data each feature gives its levels (a thermometer encoding; a binary feature has
    the single threshold 0.5 and passes through). For images, ``thresholds`` has one row per
    channel and every pixel of the channel uses it (level sets). With ``complement=True`` the
    complements of all bits follow them, so that a network of increasing operators can compute
    non-increasing ones (set differences such as top-hats).

    Parameters
    ----------
    thresholds : ndarray of shape (n_features_or_channels, n_levels)
    complement : bool, default=False
    """

    def __init__(self, thresholds, complement: bool = False):
        self.thresholds = np.atleast_2d(np.asarray(thresholds, dtype=np.float64))
        self.complement = bool(complement)
        self.used = ~np.isnan(self.thresholds)
        self.feature_index, self.level_index = np.nonzero(self.used)

    @property
    def n_outputs(self) -> int:
        """Number of bits (tabular) or channels (images) produced."""
        return len(self.feature_index) * (2 if self.complement else 1)

    def _levels(self) -> np.ndarray:
        return self.thresholds[self.feature_index, self.level_index]

    def bits(self, X: np.ndarray) -> np.ndarray:
        """Tabular ``X (n, F)`` -> bool ``(n, n_bits)``, all levels of feature 0 first."""
        bits = X[:, self.feature_index] > self._levels()
        return np.concatenate([bits, ~bits], axis=1) if self.complement else bits

    def feature_major(self, X: np.ndarray) -> np.ndarray:
        """Tabular ``X (n, F)`` -> packed bits ``(n_bits, words)`` (feature-major)."""
        return pack_sample_rows(self.bits(X))

    def images(self, X: np.ndarray) -> np.ndarray:
        """Images ``(n, C, H, W)`` -> bool ``(n, n_channels_out, H, W)`` (channel-major)."""
        bits = X[:, self.feature_index] > self._levels()[None, :, None, None]
        return np.concatenate([bits, ~bits], axis=1) if self.complement else bits

    def packed_images(self, X: np.ndarray) -> PackedImage:
        """Images ``(n, C, H, W)`` -> packed ``(n, n_channels_out, H, W)``, one level set at a
        time: the only boolean image made is one channel of one level (complements are taken
        on the packed bits)."""
        levels = list(zip(self.feature_index, self._levels(), strict=True))
        n_outputs = len(levels) * (2 if self.complement else 1)
        out = None
        for index, (channel, level) in enumerate(levels):
            words = pack(_level_set(X[:, channel], level)).words
            if n_outputs == 1:
                return PackedImage(words[:, None], X.shape[-1])
            if out is None:  # written in place: no stacking copy (see combine_shifts)
                out = np.empty((words.shape[0], n_outputs, *words.shape[1:]), np.uint64)
            out[:, index] = words
            if self.complement:
                np.invert(words, out=out[:, len(levels) + index])
        # the complements' bits after the last column are cleared
        return PackedImage(out, X.shape[-1])._mask_padding()

    def packed_of_binary(self, packed: PackedImage) -> PackedImage:
        """What :meth:`packed_images` gives for binary images (thresholds of 1/2, one level
        per channel), from the images already packed: ``(n, C, H, words)``."""
        channels = packed.words[:, self.feature_index]
        if self.complement:
            channels = np.concatenate([channels, ~channels], axis=1)
        return PackedImage(channels, packed.width)._mask_padding()

    def to_dict(self) -> dict:
        return {
            "type": "thresholds",
            "thresholds": _nan_to_none(self.thresholds),
            "complement": self.complement,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Thresholds:
        return cls(np.array(data["thresholds"], dtype=np.float64), data["complement"])

    def describe(self) -> str:
        counts = self.used.sum(axis=1)
        return (
            f"Thresholds: {self.thresholds.shape[0]} inputs -> {self.n_outputs} bits "
            f"({counts.min()}-{counts.max()} levels per input"
            f"{', with complements' if self.complement else ''})"
        )


# Rough per-operation costs (seconds) used to pick how a dense layer is evaluated; measured with
# benchmarks/bench_binarized.py on a 2-core x86_64 machine. They only choose a strategy: every
# strategy gives identical outputs.
_COST_SLICED_ROW = 4e-9  # one gathered support row, per unit
_COST_SLICED_WORD = 1.1e-9  # one 64-sample word OR/AND
_COST_BLAS_MAC = 1.2e-11  # one float32 multiply-add in a matrix product
_COST_BLAS_WEIGHT = 1e-10  # reading one float32 weight (memory-bound for few samples)
_COST_COMPARE = 3e-9  # one count compared and packed
_COST_POPCOUNT_WORD = 6e-9  # one AND + popcount + sum of a 64-input word
STRATEGIES = ("auto", "sliced", "blas", "popcount")


class BinaryDense(_Layer):
    """Dense binary units: unit ``u`` fires iff ``count(x AND S_u) >= thresholds[u]``.

    A dilation (OR) unit has threshold 1, an erosion (AND) unit threshold ``|S_u|``; other
    thresholds give general counting units. Supports are stored packed (``uint64`` words).

    Three evaluation strategies give identical outputs: ``"sliced"`` ORs/ANDs the bit-vectors
    of the support of each OR/AND unit (``sum |S|`` row operations on ``n / 64`` words: best for
    small supports and large batches), ``"blas"`` counts with a float32 matrix product on 0/1
    matrices (best for large supports), ``"popcount"`` ANDs packed inputs with the packed
    supports and counts bits (best for a handful of samples). ``"auto"`` picks the cheapest by a
    cost model for each call's batch size.

    Parameters
    ----------
    supports : array of bool, shape (n_units, n_inputs)
    thresholds : array of int, shape (n_units,)
    strategy : {"auto", "sliced", "blas", "popcount"}, default="auto"
    """

    def __init__(self, supports, thresholds, strategy: str = "auto"):
        supports = np.asarray(supports, dtype=bool)
        self.n_units, self.n_inputs = supports.shape
        self.packed_supports = pack_samples(supports)  # (n_units, words): rows packed
        self.thresholds = np.asarray(thresholds, dtype=np.int64).reshape(self.n_units)
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
        self.strategy = strategy
        self._cache = {}

    # Pickled compactly: the supports as packed words or as index lists, whichever is smaller
    # (units reading a few of many inputs take a few bytes each), thresholds in the smallest
    # integer type; derived arrays (index lists, float32 supports) are rebuilt on demand.
    def __getstate__(self):
        state = {key: value for key, value in self.__dict__.items()
                 if key not in ("_cache", "packed_supports", "thresholds")}
        sizes = self.sizes
        index_type = np.min_scalar_type(max(self.n_inputs - 1, 0))
        if int(sizes.sum()) * index_type.itemsize < self.packed_supports.nbytes:
            supports = self.supports
            state["support_indices"] = np.nonzero(supports)[1].astype(index_type)
            state["support_sizes"] = sizes.astype(np.min_scalar_type(sizes.max(initial=0)))
        else:
            state["packed_supports"] = self.packed_supports
        state["thresholds"] = self.thresholds.astype(
            np.min_scalar_type(self.thresholds.max(initial=0)))
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "support_indices" in state:
            indices = state.pop("support_indices").astype(np.int64)
            sizes = state.pop("support_sizes").astype(np.int64)
            supports = np.split(indices, np.cumsum(sizes)[:-1]) if sizes.size else []
            state["packed_supports"] = BinaryDense.from_indices(
                supports, state["n_inputs"], np.ones(len(sizes), np.int64)).packed_supports
        state["thresholds"] = np.asarray(state["thresholds"], dtype=np.int64)
        state["_cache"] = {}
        self.__dict__.update(state)

    @property
    def supports(self) -> np.ndarray:
        return unpack_samples(self.packed_supports, self.n_inputs)

    @property
    def sizes(self) -> np.ndarray:
        return np.bitwise_count(self.packed_supports).sum(axis=1).astype(np.int64)

    def unit_kinds(self) -> np.ndarray:
        sizes = self.sizes
        return np.where(
            (self.thresholds == 1) & (sizes >= 1),
            "or",
            np.where((self.thresholds == sizes) & (sizes >= 1), "and", "count"),
        )

    def _groups(self):
        """OR/AND units grouped by support size (next power of two) with padded index lists.

        Padding repeats a unit's first input, which changes neither an OR nor an AND.
        """
        if "groups" not in self._cache:
            kinds, sizes, supports = self.unit_kinds(), self.sizes, self.supports
            groups = []
            for kind in ("or", "and"):
                units = np.flatnonzero(kinds == kind)
                buckets = np.ceil(np.log2(np.maximum(sizes[units], 1))).astype(int)
                for bucket in np.unique(buckets):
                    members = units[buckets == bucket]
                    width = sizes[members].max()
                    index = np.empty((len(members), width), dtype=np.intp)
                    for row, unit in enumerate(members):
                        columns = np.flatnonzero(supports[unit])
                        index[row] = np.resize(columns, width)
                    groups.append((kind, members, index))
            self._cache["groups"] = groups
            self._cache["count_units"] = np.flatnonzero(kinds == "count")
        return self._cache["groups"], self._cache["count_units"]

    def _float_supports(self) -> np.ndarray:
        if "float" not in self._cache:
            self._cache["float"] = np.ascontiguousarray(self.supports.T, dtype=np.float32)
        return self._cache["float"]

    def estimated_costs(self, n_samples: int) -> dict[str, float]:
        """Seconds each strategy is expected to take for ``n_samples`` (the cost model)."""
        groups, count_units = self._groups()
        words = -(-n_samples // _WORD)
        per_row = _COST_SLICED_ROW + _COST_SLICED_WORD * words
        counting = n_samples * self.n_inputs * _COST_BLAS_MAC + n_samples * _COST_COMPARE
        counting += self.n_inputs * _COST_BLAS_WEIGHT
        sliced = sum(index.size * per_row for _, _, index in groups)
        return {
            "sliced": sliced + len(count_units) * counting,
            "blas": self.n_units * counting,
            "popcount": n_samples * self.n_units * (
                self.packed_supports.shape[1] * _COST_POPCOUNT_WORD + _COST_COMPARE
            ),
        }

    def __call__(self, bits: np.ndarray, n_samples: int) -> np.ndarray:
        """Feature-major packed inputs ``(n_inputs, words)`` -> outputs ``(n_units, words)``."""
        strategy = self.strategy
        if strategy == "auto":
            costs = self.estimated_costs(n_samples)
            strategy = min(costs, key=costs.get)
        if strategy == "sliced":
            return self._sliced(bits, n_samples)
        inputs = unpack_samples(bits, n_samples)  # (n_inputs, n)
        if strategy == "blas":
            counts = (inputs.T.astype(np.float32) @ self._float_supports()).T
        else:
            packed = pack_samples(inputs.T)  # sample-major (n, words)
            counts = np.empty((self.n_units, n_samples), dtype=np.int64)
            step = max(1, (1 << 20) // max(self.packed_supports.size, 1))
            for start in range(0, n_samples, step):
                chunk = packed[start : start + step, None, :] & self.packed_supports[None]
                counts[:, start : start + step] = np.bitwise_count(chunk).sum(-1).T
        return pack_samples(counts >= self.thresholds[:, None])

    def _sliced(self, bits: np.ndarray, n_samples: int) -> np.ndarray:
        groups, count_units = self._groups()
        out = np.zeros((self.n_units, bits.shape[1]), dtype=np.uint64)
        for kind, members, index in groups:
            reduce = np.bitwise_or if kind == "or" else np.bitwise_and
            result = bits[index[:, 0]]
            for position in range(1, index.shape[1]):
                reduce(result, bits[index[:, position]], out=result)
            out[members] = result
        if len(count_units):
            inputs = unpack_samples(bits, n_samples).T.astype(np.float32)
            counts = (inputs @ self._float_supports()[:, count_units]).T
            out[count_units] = pack_samples(counts >= self.thresholds[count_units, None])
        return out

    def to_dict(self) -> dict:
        """The supports as index lists, or as packed words (``packed_supports``: base64 of the
        little-endian ``uint64`` words, unit by unit) when that is shorter."""
        data = {"type": "dense", "n_inputs": self.n_inputs}
        indices = [np.flatnonzero(row) for row in self.supports]
        digits = sum(int(np.log10(np.maximum(i, 1)).sum()) + 3 * i.size for i in indices)
        if digits <= 4 * self.packed_supports.nbytes / 3:
            data["supports"] = [i.tolist() for i in indices]
        else:
            words = self.packed_supports.astype("<u8")
            data["packed_supports"] = base64.b64encode(words.tobytes()).decode("ascii")
        data["thresholds"] = self.thresholds.tolist()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> BinaryDense:
        if "packed_supports" in data:
            words = np.frombuffer(base64.b64decode(data["packed_supports"]), dtype="<u8")
            layer = cls(np.zeros((0, data["n_inputs"]), bool), [])
            layer.n_units = len(data["thresholds"])
            layer.packed_supports = words.astype(np.uint64).reshape(layer.n_units, -1)
            layer.thresholds = np.asarray(data["thresholds"], dtype=np.int64)
            return layer
        return cls.from_indices(data["supports"], data["n_inputs"], data["thresholds"])

    @classmethod
    def from_indices(cls, supports, n_inputs: int, thresholds) -> BinaryDense:
        """Units from the input indices of each one's support (packed directly, without a
        dense boolean mask)."""
        sizes = [len(indices) for indices in supports]
        packed = np.zeros((len(supports), -(-n_inputs // _WORD)), dtype=np.uint64)
        if sum(sizes):
            units = np.repeat(np.arange(len(supports)), sizes)
            inputs = np.concatenate([np.asarray(i, dtype=np.int64) for i in supports])
            bits = np.left_shift(np.uint64(1), (inputs % _WORD).astype(np.uint64))
            np.bitwise_or.at(packed, (units, inputs // _WORD), bits)
        layer = cls(np.zeros((0, n_inputs), bool), [])
        layer.n_units = len(supports)
        layer.packed_supports = packed
        layer.thresholds = np.asarray(thresholds, dtype=np.int64).reshape(layer.n_units)
        return layer

    def describe(self) -> str:
        sizes, kinds = self.sizes, self.unit_kinds()
        return (
            f"BinaryDense: {self.n_inputs} -> {self.n_units} units "
            f"({(kinds == 'or').sum()} OR, {(kinds == 'and').sum()} AND, "
            f"{(kinds == 'count').sum()} counting; support size median {np.median(sizes):.0f}, "
            f"max {sizes.max(initial=0)})"
        )


class BinaryConv(_Layer):
    """Binary convolutional layer: unions/intersections of erosions/dilations of channels.

    Output channel ``j`` is ``combine_j`` (OR or AND) over the input channels ``i`` with
    ``active[j, i]`` of ``op_ji(x_i)``, where ``op_ji`` reads the offsets of ``selems[j, i]``
    relative to the centre: ``AND_s x(p + s)`` ("erosion") or ``OR_s x(p + s)`` ("dilation",
    the correlation convention of the float layer: a dilation by the reflected element in
    scipy's convention). Pixels outside the image follow ``padding`` as in the float layer.

    Parameters
    ----------
    selems : array of bool, shape (out_channels, in_channels, kh, kw)
    operations : array of str, shape (out_channels, in_channels)
    active : array of bool, shape (out_channels, in_channels)
    combine : array of str, shape (out_channels,)
        ``"or"`` (union) or ``"and"`` (intersection).
    padding : {"replicate", "zeros"}
    exact : array of bool, shape (out_channels, in_channels), optional
        Whether each morphological operation was binarized exactly (for the description).
    combine_exact : array of bool, shape (out_channels,), optional
    complement_inputs : bool, default=False
        The layer reads its input channels and then their complements: ``in_channels`` counts
        both (the elements' channels), the images it is called on have half as many.
    """

    complement_inputs = False  # the default of layers pickled before the option

    def __init__(
        self, selems, operations, active, combine, padding, exact=None, combine_exact=None,
        complement_inputs: bool = False,
    ):
        self.selems = np.asarray(selems, dtype=bool)
        self.out_channels, self.in_channels = self.selems.shape[:2]
        self.complement_inputs = bool(complement_inputs)
        if self.complement_inputs and self.in_channels % 2:
            raise ValueError(f"complement_inputs needs an even number of element channels "
                             f"(the inputs and their complements), got {self.in_channels}")
        self.operations = np.asarray(operations, dtype=str).reshape(self.selems.shape[:2])
        self.active = np.asarray(active, dtype=bool).reshape(self.selems.shape[:2])
        self.combine = np.asarray(combine, dtype=str).reshape(self.out_channels)
        self.padding = str(padding)
        shape2 = self.selems.shape[:2]
        self.exact = np.ones(shape2, bool) if exact is None else np.asarray(exact, bool)
        self.combine_exact = (
            np.ones(self.out_channels, bool) if combine_exact is None else np.asarray(combine_exact)
        )

    def __call__(self, images: PackedImage) -> PackedImage:
        """Packed ``(n, in_channels, H, words)`` -> packed ``(n, out_channels, H, words)``
        (``in_channels // 2`` channels in with complement inputs)."""
        if self.complement_inputs:
            images = PackedImage(np.concatenate([images.words, (~images).words], axis=1),
                                 images.width)
        words = images.words
        out = np.empty((words.shape[0], self.out_channels, *words.shape[2:]), dtype=np.uint64)
        single = self._single_reductions()
        if words.shape[-2] * words.shape[-1] >= _GATHER_MAX_WORDS:
            single = np.zeros_like(single)  # large images: term by term, on long runs
        if single.any():
            self._single_reduction_outputs(images, out)
        cache = {}
        for j in np.flatnonzero(~single):
            combine = np.bitwise_or if self.combine[j] == "or" else np.bitwise_and
            result = out[:, j]  # combined in place: no new arrays (see combine_shifts)
            active = np.flatnonzero(self.active[j])
            for index, i in enumerate(active):
                key = (i, self.operations[j, i], self.selems[j, i].tobytes())
                if key not in cache:
                    reduce = "or" if self.operations[j, i] == "dilation" else "and"
                    channel = PackedImage(words[:, i], images.width)
                    offsets = selem_offsets(self.selems[j, i])
                    # an output of one term is that term: computed in its place
                    into = result if active.size == 1 else None
                    cache[key] = combine_shifts(channel, offsets, reduce, self.padding,
                                                out=into).words
                if cache[key] is result:
                    continue
                if index == 0:
                    result[...] = cache[key]
                else:
                    combine(result, cache[key], out=result)
            if active.size == 0:  # no active channel: the empty union / intersection
                result[...] = 0
                if self.combine[j] == "and":
                    out[:, j] = (~PackedImage(result, images.width)).words
        return PackedImage(out, images.width)

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_plan", None)  # derived from the arrays: rebuilt on first use
        return state

    def _single_reductions(self) -> np.ndarray:
        """Outputs that are one OR (dilations united) or one AND (erosions intersected) over
        all their (channel, offset) pairs: every output of a binarized BiSE layer."""
        return self._reduction_plan()[0].copy()

    def _reduction_plan(self):
        """``(single, columns, groups)``: the outputs of :meth:`_single_reductions`, the column
        offsets they read, and per operation (``"or"``, ``"and"``) its outputs with their terms
        listed output by output (channel, row, column slot, and each output's bounds). The
        layer's arrays do not change after construction, so the plan is made once."""
        plan = self.__dict__.get("_plan")
        if plan is not None:
            return plan
        dilations = self.operations == "dilation"
        pure_or = np.where(self.active, dilations, True).all(axis=1) & (self.combine == "or")
        pure_and = np.where(self.active, ~dilations, True).all(axis=1) & (self.combine == "and")
        single = (pure_or | pure_and) & self.active.any(axis=1)
        reads = self.selems & self.active[:, :, None, None]  # (out, in, kh, kw)
        columns = np.flatnonzero(reads[single].any(axis=(0, 1, 2)))
        slot_of_column = np.full(self.selems.shape[3], -1)
        slot_of_column[columns] = np.arange(len(columns))
        groups = []
        for combine in ("or", "and"):
            group = np.flatnonzero(single & (self.combine == combine))
            # active elements are never empty: every output has at least one term
            _, channel, row, col = np.nonzero(reads[group])
            bounds = np.concatenate([[0], np.cumsum(reads[group].sum(axis=(1, 2, 3)))])
            groups.append((combine, group, channel, row, slot_of_column[col], bounds))
        self._plan = (single, columns, groups)
        return self._plan

    def _single_reduction_outputs(self, images: PackedImage, out) -> None:
        """The outputs of :meth:`_single_reductions`, from the input shifted once per column
        offset of the window (all channels at once), its rows padded as ``padding`` says, so
        that every (channel, offset) term is a slice. The terms of as many outputs as fit in
        a budget are gathered at once and reduced output by output with ``reduceat`` (a
        single image: one gather and one reduction per layer and operation)."""
        _, columns, groups = self._reduction_plan()
        kh, kw = self.selems.shape[2:]
        n, channels, height, n_words = images.words.shape
        by_offset = column_shifts(images, columns - kw // 2, self.padding)
        margin = kh // 2
        shifted = np.empty((len(columns), n, channels, height + 2 * margin, n_words), np.uint64)
        for index, col in enumerate(columns):
            shifted[index, ..., margin : margin + height, :] = by_offset[col - kw // 2]
        if self.padding == "replicate":
            shifted[..., :margin, :] = shifted[..., margin : margin + 1, :]
            shifted[..., margin + height :, :] = shifted[..., margin + height - 1 :
                                                         margin + height, :]
        else:
            shifted[..., :margin, :] = 0
            shifted[..., margin + height :, :] = 0
        rows = np.arange(height)
        per_term = height * n * n_words
        for combine, group, channel, row, slot, bounds in groups:
            reduce = np.bitwise_or if combine == "or" else np.bitwise_and
            first = 0
            while first < len(group):
                # as many outputs as fit in the gather budget (at least one)
                within = bounds[first + 1 :] - bounds[first] <= _GATHER_WORDS // per_term
                last = first + max(1, int(within.sum()))
                terms = slice(bounds[first], bounds[last])
                # advanced indices around a slice: (terms, H) then (n, words)
                gathered = shifted[slot[terms][:, None], :, channel[terms][:, None],
                                   row[terms][:, None] + rows]
                reduced = reduce.reduceat(gathered, bounds[first:last] - bounds[first], axis=0)
                out[:, group[first:last]] = reduced.transpose(2, 0, 1, 3)
                first = last

    def to_dict(self) -> dict:
        return {
            "type": "conv",
            "selems": self.selems.astype(int).tolist(),
            "operations": self.operations.tolist(),
            "active": self.active.tolist(),
            "combine": self.combine.tolist(),
            "padding": self.padding,
            "exact": self.exact.tolist(),
            "combine_exact": self.combine_exact.tolist(),
            **({"complement_inputs": True} if self.complement_inputs
               else {}),
        }

    @classmethod
    def from_dict(cls, data: dict) -> BinaryConv:
        return cls(
            np.array(data["selems"], dtype=bool),
            np.array(data["operations"]),
            np.array(data["active"], dtype=bool),
            np.array(data["combine"]),
            data["padding"],
            np.array(data["exact"], dtype=bool),
            np.array(data["combine_exact"], dtype=bool),
            complement_inputs=data.get("complement_inputs", False),
        )

    def as_morphology(self) -> list[dict]:
        """Per output channel, the operation in ``skmorph.morphology``'s (scipy's) convention.

        Each dict has ``combine`` (``"union"``/``"intersection"``), ``exact`` and ``terms``, a
        list of ``(input_channel, operation, selem, exact)``: the output is the combination of
        ``skmorph.morphology.<operation>(x[input_channel], selem, padding=self.padding)``. (The
        layer stores elements as read by the float correlation; a dilation's is reflected here.)
        With complement inputs, channel ``in_channels // 2 + i`` is the complement of ``x[i]``.
        """
        outputs = []
        for j in range(self.out_channels):
            terms = []
            for i in np.flatnonzero(self.active[j]):
                selem = self.selems[j, i]
                if self.operations[j, i] == "dilation":
                    selem = selem[::-1, ::-1]
                terms.append((int(i), str(self.operations[j, i]), selem.copy(),
                              bool(self.exact[j, i])))
            outputs.append({
                "combine": "union" if self.combine[j] == "or" else "intersection",
                "exact": bool(self.combine_exact[j]),
                "terms": terms,
            })
        return outputs

    def describe(self) -> str:
        kh, kw = self.selems.shape[2:]
        header = (
            f"BinaryConv: {self.in_channels} -> {self.out_channels} channels, {kh}x{kw} "
            f"elements, padding={self.padding!r}"
        )
        if self.complement_inputs:
            header += (f" (channels {self.in_channels // 2}-{self.in_channels - 1} are the "
                       f"complements of the {self.in_channels // 2} inputs)")
        return "\n".join([header, *describe_operations(self.as_morphology())])


_EVEN_BITS = np.uint64(0x5555555555555555)
# masks and shifts that move the even bits of a word into its low half, in order
_COMPACT = [(np.uint64(shift), np.uint64(mask)) for shift, mask in (
    (1, 0x3333333333333333), (2, 0x0F0F0F0F0F0F0F0F), (4, 0x00FF00FF00FF00FF),
    (8, 0x0000FFFF0000FFFF), (16, 0x00000000FFFFFFFF))]


class BinaryPooling(_Layer):
    """Binary pooling: the OR (``"dilation"``) or AND (``"erosion"``) of each block, subsampled.

    Output pixel ``(r, c)`` of every channel combines the input block ``[r*size, (r+1)*size) x
    [c*size, (c+1)*size)``; rows and columns beyond the last whole block are dropped. It is the
    binarized :class:`skmorph.nn.BlockPooling` (max or min pooling), exact on binary images.
    Rows are combined word by word; for ``size=2`` columns too, by combining neighbouring bits
    and moving the even bits together inside each word (no unpacking).

    Parameters
    ----------
    operation : {"dilation", "erosion"}
    size : int
    """

    def __init__(self, operation: str = "dilation", size: int = 2):
        if operation not in ("dilation", "erosion"):
            raise ValueError(f"operation must be 'dilation' or 'erosion', got {operation!r}")
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"size must be a positive int, got {size!r}")
        self.operation = operation
        self.size = int(size)

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        return height // self.size, width // self.size

    def __call__(self, images: PackedImage) -> PackedImage:
        """Packed ``(n, C, H, words)`` -> packed ``(n, C, H // size, words')``."""
        combine = np.bitwise_or if self.operation == "dilation" else np.bitwise_and
        words, size = images.words, self.size
        height, width = self.output_shape(words.shape[-2], images.width)
        rows = words[..., : height * size, :].reshape(*words.shape[:-2], height, size,
                                                      words.shape[-1])
        rows = combine.reduce(rows, axis=-2)
        if size == 1:
            return PackedImage(np.ascontiguousarray(rows), width)
        if size != 2:  # general blocks: on booleans
            bits = PackedImage(rows, images.width).unpack()[..., : width * size]
            return pack(combine.reduce(bits.reshape(*bits.shape[:-1], width, size), axis=-1))
        pairs = combine(rows, rows >> np.uint64(1)) & _EVEN_BITS
        for shift, mask in _COMPACT:
            pairs = (pairs | (pairs >> shift)) & mask
        # 32 output columns per input word: two input words make one output word
        n_out = -(-width // _WORD)
        halves = np.zeros((*pairs.shape[:-1], 2 * n_out), dtype=np.uint64)
        used = min(pairs.shape[-1], 2 * n_out)
        halves[..., :used] = pairs[..., :used]
        out = halves[..., 0::2] | (halves[..., 1::2] << np.uint64(32))
        tail = width % _WORD
        if tail:  # a last input column without its pair made a bit beyond the width
            out[..., -1] &= np.uint64((1 << tail) - 1)
        return PackedImage(out, width)

    def to_dict(self) -> dict:
        return {"type": "pool", "operation": self.operation, "size": self.size}

    @classmethod
    def from_dict(cls, data: dict) -> BinaryPooling:
        return cls(data["operation"], data["size"])

    def describe(self) -> str:
        kind = "OR" if self.operation == "dilation" else "AND"
        return (f"BinaryPooling: {kind} of {self.size}x{self.size} blocks "
                f"({self.operation} by the block, subsampled)")


def describe_operations(outputs: list[dict]) -> list[str]:
    """Text lines for the output channels of :meth:`BinaryConv.as_morphology`."""
    lines = []
    for j, output in enumerate(outputs):
        note = "" if output["exact"] else " [approximated]"
        sources = [term[0] for term in output["terms"]]
        lines.append(f"  output {j} = {output['combine']} over input channels {sources}{note}:")
        for source, operation, selem, exact in output["terms"]:
            how = "exact" if exact else "approximated"
            lines.append(f"    {operation} of input {source} ({how}) by")
            lines.extend("      " + row for row in selem_picture(selem))
    return lines


def selem_picture(selem: np.ndarray) -> list[str]:
    """ASCII rows of an element: ``#`` for its pixels, ``.`` elsewhere, ``o``/``+`` the centre."""
    rows = []
    for r, row in enumerate(selem):
        chars = []
        for c, value in enumerate(row):
            centre = (r, c) == (selem.shape[0] // 2, selem.shape[1] // 2)
            chars.append(("+" if value else "o") if centre else ("#" if value else "."))
        rows.append(" ".join(chars))
    return rows


class LinearHead(_Layer):
    """Float linear layer on binary features: ``scores = bits @ weight.T + bias``."""

    def __init__(self, weight, bias):
        self.weight = np.asarray(weight, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)

    def __call__(self, bits: np.ndarray, n_samples: int) -> np.ndarray:
        """Feature-major packed bits -> scores ``(n_samples, n_outputs)``, unpacked block by
        block."""
        scores = np.empty((n_samples, self.weight.shape[0]), dtype=np.float32)
        for start in range(0, n_samples, _HEAD_STEP):
            stop = min(start + _HEAD_STEP, n_samples)
            words = np.ascontiguousarray(bits[:, start // _WORD : -(-stop // _WORD)])
            scores[start:stop] = self.scores(unpack_samples(words, stop - start).T)
        return scores

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Unpacked bool features ``(n_samples, n_features)`` -> scores: the head of packed
        bits without packing them (the maps of a convolutional part come unpacked)."""
        scores = np.empty((features.shape[0], self.weight.shape[0]), dtype=np.float32)
        for start in range(0, features.shape[0], _HEAD_STEP):
            block = features[start : start + _HEAD_STEP].T
            scores[start : start + _HEAD_STEP] = (self.weight @ block.astype(np.float32)).T
        return scores + self.bias

    def to_dict(self) -> dict:
        return {"type": "linear", "weight": _float32_list(self.weight),
                "bias": _float32_list(self.bias)}

    @classmethod
    def from_dict(cls, data: dict) -> LinearHead:
        return cls(data["weight"], data["bias"])

    def describe(self) -> str:
        return f"LinearHead: {self.weight.shape[1]} -> {self.weight.shape[0]} (float32)"


def _float32_list(array: np.ndarray):
    """Nested lists of the shortest decimals that read back as the same float32 values."""
    if array.ndim > 1:
        return [_float32_list(row) for row in array]
    return [float(str(value)) for value in array.astype(np.float32)]


def _nan_to_none(array: np.ndarray) -> list:
    return [[None if np.isnan(v) else float(v) for v in row] for row in array]


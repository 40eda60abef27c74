"""The loader of exported networks checks every field: the reported cases, and a fuzz test
that mutates every field of valid exports (refused with a clear error, or loaded and behaving
exactly as the original)."""

import copy
import json
import math

import numpy as np
import pytest

from skmorph.binary import (
    BinarizedNetwork,
    BinaryConv,
    BinaryDense,
    BinaryPooling,
    LinearHead,
    Thresholds,
)


def _selems(rng, out_channels, in_channels, size):
    selems = rng.random((out_channels, in_channels, size, size)) < 0.5
    selems[..., size // 2, size // 2] = True
    return selems


def dense_network(rng):
    thresholds = np.array([[0.2, 0.6], [0.5, np.nan], [0.1, 0.3]])
    supports = np.zeros((4, 10), bool)
    for unit, indices in enumerate([[0, 3], [1, 2, 9], [4], [5, 6, 7]]):
        supports[unit, indices] = True
    return BinarizedNetwork(
        [Thresholds(thresholds, complement=True), BinaryDense(supports, [1, 3, 1, 2]),
         LinearHead(rng.normal(size=(3, 4)), rng.normal(size=3))],
        task="classification", classes=np.array(["a", "b", "c"]),
    )


def conv_network(rng):
    conv = BinaryConv(_selems(rng, 2, 2, 3), [["erosion", "dilation"], ["dilation", "erosion"]],
                      [[True, False], [True, True]], ["or", "and"], "replicate")
    supports = rng.random((3, 2 * 4 * 4)) < 0.2
    supports[:, 0] = True
    return BinarizedNetwork(
        [Thresholds([[0.5]], complement=True), conv, BinaryDense(supports, [1, 1, 1]),
         LinearHead(rng.normal(size=(2, 3)), rng.normal(size=2))],
        task="classification", classes=np.array([0, 1]), image_shape=(1, 4, 4),
    )


def pooled_network(rng):
    first = BinaryConv(_selems(rng, 2, 2, 3), [["erosion", "dilation"], ["dilation", "erosion"]],
                       [[True, True], [True, False]], ["and", "or"], "zeros")
    second = BinaryConv(_selems(rng, 3, 2, 3), [["dilation", "erosion"]] * 3,
                        [[True, False], [False, True], [True, True]], ["or", "or", "and"],
                        "replicate")
    supports = rng.random((4, 3 * 2 * 1)) < 0.4
    supports[:, 0] = True
    return BinarizedNetwork(
        [Thresholds([[0.5]], complement=True), first, BinaryPooling("dilation", 2), second,
         BinaryPooling("erosion", 3), BinaryDense(supports, [1, 1, 1, 1]),
         LinearHead(rng.normal(size=(3, 4)), rng.normal(size=3))],
        task="classification", classes=np.array([0, 1, 2]), image_shape=(1, 13, 7),
    )


def readout_network(rng):
    """The dense layer reads the pooled maps of both conv layers (2 x 6 x 3 + 3 x 2 x 1)."""
    pooled = pooled_network(rng)
    supports = rng.random((4, 2 * 6 * 3 + 3 * 2 * 1)) < 0.3
    supports[:, 0] = True
    layers = [*pooled.layers[:5], BinaryDense(supports, [1, 2, 1, 1]), pooled.layers[-1]]
    return BinarizedNetwork(layers, task="classification", classes=np.array([0, 1, 2]),
                            image_shape=(1, 13, 7), conv_readout="all")


def complement_network(rng):
    """The second conv layer reads the 2 pooled maps of the first and their complements."""
    pooled = pooled_network(rng)
    second = BinaryConv(_selems(rng, 3, 4, 3), [["dilation", "erosion", "erosion", "dilation"]] * 3,
                        [[True, False, True, True], [False, True, True, False], [True] * 4],
                        ["or", "and", "and"], "replicate", complement_inputs=True)
    layers = [*pooled.layers[:3], second, *pooled.layers[4:]]
    return BinarizedNetwork(layers, task="classification", classes=np.array([0, 1, 2]),
                            image_shape=(1, 13, 7))


def binary_output_network(rng):
    hidden = np.zeros((3, 4), bool)
    hidden[[0, 1, 2, 2], [0, 1, 2, 3]] = True
    output = np.array([[1, 1, 0], [0, 1, 1]], bool)
    return BinarizedNetwork(
        [Thresholds([[0.5], [0.5]], complement=True), BinaryDense(hidden, [1, 1, 2]),
         BinaryDense(output, [2, 1])],
        task="classification", classes=np.array([3, 7]),
    )


def image_network(rng):
    first = BinaryConv(_selems(rng, 2, 2, 3), [["erosion", "erosion"], ["dilation", "erosion"]],
                       [[True, False], [False, True]], ["or", "or"], "zeros")
    second = BinaryConv(_selems(rng, 1, 2, 5), [["dilation", "erosion"]], [[True, True]],
                        ["and"], "zeros")
    return BinarizedNetwork([Thresholds([[0.5]], complement=True), first, second],
                            task="image", image_shape=(1, 8, 8))


def packed_network(rng):
    supports = rng.random((6, 70)) < 0.6  # dense supports: stored as packed words
    supports[:, 0] = True
    network = BinarizedNetwork(
        [Thresholds(np.full((70, 1), 0.5)),
         BinaryDense(supports, np.maximum(supports.sum(axis=1) // 2, 1)),
         LinearHead(rng.normal(size=(2, 6)), rng.normal(size=2))],
        task="classification", classes=np.array(["no", "yes"]),
    )
    assert "packed_supports" in network.to_dict()["layers"][1]
    return network


NETWORKS = {"dense": dense_network, "packed": packed_network, "conv": conv_network,
            "pooled": pooled_network, "readout": readout_network,
            "complements": complement_network,
            "binary output": binary_output_network, "image": image_network}


def _outputs(network, rng):
    if network.task == "image":
        return network.transform((rng.random((3, 1, 9, 11)) < 0.5).astype(float))
    n_features = network.n_features_in_
    return network.predict_proba(rng.random((20, n_features)))


def _leaves(data, path=()):
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _leaves(value, (*path, index))
    yield path, data


def _replaced(data, path, value):
    mutated = copy.deepcopy(data)
    if not path:
        return value
    target = mutated
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return mutated


def _mutations(path, value):
    """Values that break a field whatever it is (labels excepted: any distinct label is
    valid, and changing one changes the predictions)."""
    if "classes" in path and path[-1] != "classes":
        return [math.nan, None, [], {}]
    if isinstance(value, bool):
        return ["no", 0, 1, None, 2]
    if isinstance(value, int):
        return [-1, 10**9, 1.5, "x", None, []]
    if isinstance(value, float):
        return [math.nan, math.inf, -math.inf, "x", True, []]
    if isinstance(value, str):
        return ["banana", "", 1, None]
    if value is None:
        return ["x", True, [], {}]
    if isinstance(value, list):
        return ["x", {}, 7]
    return ["x", [], None]


@pytest.mark.parametrize("name", NETWORKS)
def test_valid_exports_round_trip(name, tmp_path):
    rng = np.random.default_rng(0)
    network = NETWORKS[name](rng)
    network.save(tmp_path / "network.json")
    loaded = BinarizedNetwork.load(tmp_path / "network.json")
    np.testing.assert_array_equal(_outputs(loaded, np.random.default_rng(1)),
                                  _outputs(network, np.random.default_rng(1)))


@pytest.mark.parametrize("name", NETWORKS)
def test_every_mutated_field_is_refused_clearly_or_changes_nothing(name):
    network = NETWORKS[name](np.random.default_rng(0))
    data = json.loads(json.dumps(network.to_dict()))
    expected = _outputs(network, np.random.default_rng(1))
    cases = [(path, value) for path, original in _leaves(data)
             for value in _mutations(path, original)]
    # structure: every field dropped, an unknown field added
    dicts = [path for path, value in _leaves(data) if isinstance(value, dict)]
    refused = loaded = 0
    for path, value in cases:
        mutated = _replaced(data, path, value)
        try:
            result = BinarizedNetwork.from_dict(mutated)
        except ValueError as error:
            assert "must be" in str(error) or "missing" in str(error) or "not a" in str(error)
            refused += 1
            continue
        np.testing.assert_array_equal(_outputs(result, np.random.default_rng(1)), expected,
                                      err_msg=f"{path} -> {value!r} loaded with other outputs")
        loaded += 1
    for path in dicts:
        for key in list(_replaced(data, (), data) if not path else _get(data, path)):
            target = copy.deepcopy(data)
            del _get(target, path)[key]
            with pytest.raises(ValueError, match=r"missing|must be|not a"):
                BinarizedNetwork.from_dict(target)
        target = copy.deepcopy(data)
        _get(target, path)["extra"] = 1
        with pytest.raises(ValueError, match=r"unknown field|not a"):
            BinarizedNetwork.from_dict(target)
    assert refused > 0.9 * len(cases)  # the few loaded ones are harmless (checked above)


def _get(data, path):
    for key in path:
        data = data[key]
    return data


def _layer(data, kind):
    return next(layer for layer in data["layers"] if layer["type"] == kind)


@pytest.mark.parametrize(
    ("name", "mutate", "message"),
    [
        ("dense", lambda d: _layer(d, "dense")["supports"][0].__setitem__(0, -1),
         r"supports\[0\]"),
        ("image", lambda d: _layer(d, "conv")["operations"][0].__setitem__(0, "banana"),
         "operations"),
        ("image", lambda d: _layer(d, "conv")["combine"].__setitem__(0, "xor"), "combine"),
        ("dense", lambda d: _layer(d, "thresholds").__setitem__("complement", "no"),
         "complement"),
        ("image", lambda d: _layer(d, "conv")["selems"][0][0][0].__setitem__(0, 2), "selems"),
        ("image", lambda d: _layer(d, "conv")["selems"][0][0][0].__setitem__(0, "x"), "selems"),
        ("image", lambda d: [row.pop() for out in _layer(d, "conv")["selems"] for inp in out
                             for row in inp], "odd"),
        ("dense", lambda d: d["classes"].append("d"), "classes"),
        ("dense", lambda d: _layer(d, "linear")["weight"][0].__setitem__(0, math.nan),
         "weight"),
        ("dense", lambda d: _layer(d, "linear")["weight"].pop(), "bias"),
        ("dense", lambda d: _layer(d, "dense").__setitem__("n_inputs", 200_000_000),
         "n_inputs"),
        ("conv", lambda d: d.__setitem__("image_shape", [1, 10_000, 20_000]), "image_shape"),
        ("conv", lambda d: d.__setitem__("image_shape", None), "image_shape"),
        ("dense", lambda d: d["layers"].reverse(), "layers"),
        ("dense", lambda d: d.__setitem__("task", "image"), "layers|classes"),
        ("packed", lambda d: _layer(d, "dense").__setitem__(
            "packed_supports", _layer(d, "dense")["packed_supports"][:-4]), "packed_supports"),
        ("packed", lambda d: _layer(d, "dense").__setitem__(
            "packed_supports", "/" * len(_layer(d, "dense")["packed_supports"])),
         "packed_supports"),
        ("pooled", lambda d: _layer(d, "pool").__setitem__("size", 100), "size"),
        ("pooled", lambda d: _layer(d, "pool").__setitem__("operation", "average"),
         "operation"),
        ("pooled", lambda d: d["layers"].insert(1, _layer(d, "pool")), "layers"),
        ("image", lambda d: d["layers"].append({"type": "pool", "operation": "dilation",
                                                "size": 2}), "layers"),
        ("readout", lambda d: d.pop("conv_readout"), "n_inputs|supports"),
        ("pooled", lambda d: d.__setitem__("conv_readout", "all"), "n_inputs|supports"),
        ("readout", lambda d: d.__setitem__("conv_readout", "first"), "conv_readout"),
        ("image", lambda d: d.__setitem__("conv_readout", "all"), "conv_readout"),
        ("complements", lambda d: d["layers"][3].__setitem__("complement_inputs", "yes"),
         "complement_inputs"),
        ("complements", lambda d: d["layers"][3].pop("complement_inputs"), "selems"),
        ("pooled", lambda d: d["layers"][3].__setitem__("complement_inputs", True), "selems"),
    ],
)
def test_reported_cases_are_refused_naming_the_field(name, mutate, message):
    data = json.loads(json.dumps(NETWORKS[name](np.random.default_rng(0)).to_dict()))
    mutate(data)
    with pytest.raises(ValueError, match=message):
        BinarizedNetwork.from_dict(data)


def test_packed_supports_with_bits_beyond_the_inputs_are_refused():
    import base64

    data = json.loads(json.dumps(packed_network(np.random.default_rng(0)).to_dict()))
    dense = _layer(data, "dense")
    words = np.frombuffer(base64.b64decode(dense["packed_supports"]), "<u8").copy()
    words[-1] |= np.uint64(1) << np.uint64(63)  # input 127 of a 70-input layer
    dense["packed_supports"] = base64.b64encode(words.tobytes()).decode()
    with pytest.raises(ValueError, match="beyond input 69"):
        BinarizedNetwork.from_dict(data)


def test_load_refuses_files_that_are_not_json(tmp_path):
    (tmp_path / "bad.json").write_bytes(b"\x00\xff not json")
    with pytest.raises(ValueError, match="not a JSON description"):
        BinarizedNetwork.load(tmp_path / "bad.json")

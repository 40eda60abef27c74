import numpy as np
import pytest
import torch

from skmorph.nn import LUI, BiSE, BiSEL, DenseLUI, MorphologicalNeurons, build_network
from skmorph.nn.layers import pad
from skmorph.nn.reparametrization import (
    BIAS_REPARAMETRIZATIONS,
    WEIGHT_REPARAMETRIZATIONS,
    bias_range,
    inverse_softplus,
    smooth_threshold,
    straight_through_binary,
    threshold_step,
)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_layer_shapes_and_ranges(dtype):
    x = (torch.rand(3, 2, 11, 13) < 0.5).to(dtype)
    for layer, channels in [
        (BiSE(2, 4, 3, dtype=dtype), 4),
        (BiSE(2, 4, (3, 5), padding="zeros", dtype=dtype), 4),
        (BiSEL(2, 3, 5, dtype=dtype), 3),
        (BiSEL(1, 3, 3, dtype=dtype), 3),
        (LUI(2, 5, dtype=dtype), 5),
    ]:
        y = layer(x[:, : layer.in_channels])
        assert y.shape == (3, channels, 11, 13) and y.dtype == dtype
        assert torch.all((y >= 0) & (y <= 1))
    dense = DenseLUI(7, 4, dtype=dtype)
    y = dense(torch.rand(5, 7, dtype=dtype))
    assert y.shape == (5, 4) and torch.all((y >= 0) & (y <= 1))


@pytest.mark.parametrize("weight_kind", WEIGHT_REPARAMETRIZATIONS)
@pytest.mark.parametrize("bias_kind", BIAS_REPARAMETRIZATIONS)
@pytest.mark.parametrize("threshold", ["tanh", "sigmoid"])
def test_gradients_flow_through_every_reparametrization(weight_kind, bias_kind, threshold):
    torch.manual_seed(0)
    layer = BiSE(
        2,
        3,
        3,
        threshold=threshold,
        weight_reparametrization=weight_kind,
        bias_reparametrization=bias_kind,
        dtype=torch.float64,
    )
    x = torch.rand(4, 2, 6, 6, dtype=torch.float64)
    layer(x).square().sum().backward()
    bank = layer.neurons
    for parameter in (bank.raw_weight, bank.raw_bias, bank.scale.log_scale):
        assert parameter.grad is not None and torch.isfinite(parameter.grad).all()
        assert parameter.grad.abs().sum() > 0
    if weight_kind == "dual":
        np.testing.assert_allclose(bank.weight.flatten(1).sum(1).detach(), 18.0, rtol=1e-12)
    if weight_kind != "identity":
        assert torch.all(bank.weight > 0)


def test_clamped_bias_stays_in_the_useful_range_and_gradient_reaches_bounds():
    bank = MorphologicalNeurons(3, (4,), bias_reparametrization="clamped", dtype=torch.float64)
    with torch.no_grad():
        bank.raw_bias.copy_(torch.tensor([-50.0, 1.0, 50.0]))
    low, high = bias_range(bank.weight.flatten(1))
    bias = bank.bias
    assert torch.all(bias >= low - 1e-12) and torch.all(bias <= high + 1e-12)
    bias[0].backward()  # clamped at the lower bound: the gradient goes to the weights
    assert bank.raw_weight.grad[0].abs().sum() > 0
    detached = MorphologicalNeurons(
        1, (4,), bias_reparametrization="clamped_detached", dtype=torch.float64
    )
    with torch.no_grad():
        detached.raw_bias.fill_(-50.0)
    detached.bias.sum().backward()
    assert detached.raw_weight.grad is None or detached.raw_weight.grad.abs().sum() == 0


def test_bias_range_matches_definition():
    weights = torch.tensor([[3.0, 1.0, 2.0], [5.0, 5.0, 5.0]])
    low, high = bias_range(weights)
    torch.testing.assert_close(low, torch.tensor([1.5, 5.0]))
    torch.testing.assert_close(high, torch.tensor([5.5, 12.5]))


def test_inverse_softplus():
    x = torch.tensor([1e-3, 0.5, 3.0, 40.0], dtype=torch.float64)
    torch.testing.assert_close(torch.nn.functional.softplus(inverse_softplus(x)), x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_inverse_softplus_of_zero_is_finite(dtype):
    # a drawn weight can be exactly 0 (torch.rand is in [0, 1)); -inf then made the first
    # optimizer step's parameters infinite (about 1% of random_state values on the digits)
    raw = inverse_softplus(torch.tensor([0.0, 1e-30, 1.0], dtype=dtype))
    assert torch.isfinite(raw).all()
    assert torch.nn.functional.softplus(raw[0]) <= torch.finfo(dtype).tiny * 2


def test_a_zero_starting_weight_trains_finitely():
    neurons = MorphologicalNeurons(6, (5,), weight_reparametrization="positive")
    selem = torch.zeros(6, 5, dtype=torch.bool)
    selem[:, 0] = True
    rand = torch.rand

    def zeros_outside(*args, **kwargs):  # every draw 0: the weights outside the element are 0
        return torch.zeros_like(rand(*args, **kwargs))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(torch, "rand", zeros_outside)
        neurons.reset_parameters(selem=selem, operation="dilation")
    assert torch.isfinite(neurons.raw_weight).all()
    optimizer = torch.optim.Adam(neurons.parameters(), lr=1e-2)
    x = (torch.rand(32, 5, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    for _ in range(3):
        optimizer.zero_grad()
        (x @ neurons.weight.T).sum().backward()
        optimizer.step()
    assert torch.isfinite(neurons.raw_weight).all()


def test_initialization_is_unsaturated_and_deterministic():
    x = (torch.rand(64, 1, 32, 32, generator=torch.Generator().manual_seed(1)) < 0.3).float()
    nets = []
    for _ in range(2):
        net = build_network(in_channels=1, conv_channels=[4, 1], kernel_sizes=5)
        net.reset_parameters(input_mean=0.3, generator=torch.Generator().manual_seed(0))
        nets.append(net)
    for a, b in zip(nets[0].parameters(), nets[1].parameters(), strict=True):
        assert torch.equal(a, b)
    with torch.no_grad():
        first = nets[0].conv_layers[0].bises.pre_activation_to_output(
            torch.nn.functional.conv2d(x, nets[0].conv_layers[0].bises.weight)
        )
    # outputs start near the middle of the threshold, not saturated
    assert 0.35 < first.mean() < 0.65 and 0.1 < first.std() < 0.35
    assert (first > 0.99).float().mean() < 0.05 and (first < 0.01).float().mean() < 0.05


@pytest.mark.parametrize("weight_kind", WEIGHT_REPARAMETRIZATIONS)
@pytest.mark.parametrize("bias_kind", ["raw", "softplus"])  # clamped: see reset_parameters
def test_activated_start_is_the_operation_by_the_whole_window(weight_kind, bias_kind):
    net = build_network(in_channels=2, conv_channels=[3, 1], kernel_sizes=[5, 3],
                        weight_reparametrization=weight_kind, bias_reparametrization=bias_kind)
    net.reset_parameters(0.3, torch.Generator().manual_seed(0),
                         conv_operations=("erosion", "dilation"))
    for layer, operation in zip(net.conv_layers, ("erosion", "dilation"), strict=True):
        result = layer.bises.activation()
        assert result.activated.all() and set(result.operation) == {operation}
        # several BiSEs per layer: random sub-windows, not all alike
        assert len({tuple(selem) for selem in result.selem}) > 1
        assert result.selem.sum(1).mean() < 0.5 * result.selem.shape[1]
        # the LUI starts halfway, as in the reference initialization
        weights, bias = layer.luis.numpy_parameters()
        np.testing.assert_allclose(bias, 0.5 * weights.sum(1), rtol=0.02)


@pytest.mark.parametrize("weight_kind", WEIGHT_REPARAMETRIZATIONS)
def test_a_single_bise_starts_on_its_whole_window(weight_kind):
    net = build_network(in_channels=1, conv_channels=[1, 1], kernel_sizes=[5, 3],
                        weight_reparametrization=weight_kind)
    net.reset_parameters(0.3, torch.Generator().manual_seed(0),
                         conv_operations=("erosion", "dilation"))
    for layer, operation in zip(net.conv_layers, ("erosion", "dilation"), strict=True):
        result = layer.bises.activation()
        assert result.activated.all() and result.selem.all()
        assert set(result.operation) == {operation}


@pytest.mark.parametrize("operation", ["erosion", "dilation"])
def test_a_given_start_element_is_the_activated_element(operation):
    bank = MorphologicalNeurons(3, (1, 3, 3), weight_reparametrization="dual",
                                dtype=torch.float64)
    selem = torch.rand(3, 1, 3, 3, generator=torch.Generator().manual_seed(0)) < 0.5
    selem[:, 0, 1, 1] = True
    bank.reset_parameters(0.5, torch.Generator().manual_seed(1), selem=selem,
                          operation=operation)
    result = bank.activation()
    assert result.activated.all() and (result.operation == operation).all()
    np.testing.assert_array_equal(result.selem, selem.flatten(1).numpy())
    with pytest.raises(ValueError, match="selem must hold 3 x 9 values"):
        bank.reset_parameters(selem=selem[:2])


def test_start_operations_can_be_given_per_neuron():
    bank = MorphologicalNeurons(4, (2, 3, 3), dtype=torch.float64)
    selem = torch.rand(4, 18, generator=torch.Generator().manual_seed(0)) < 0.3
    selem[:, 0] = True
    operations = ["erosion", "dilation", "dilation", "erosion"]
    bank.reset_parameters(selem=selem, operation=operations)
    result = bank.activation()
    assert result.activated.all() and result.operation.tolist() == operations
    np.testing.assert_array_equal(result.selem, selem.numpy())
    for bad in (["erosion"] * 3, ["erosion", "opening", "erosion", "erosion"]):
        with pytest.raises(ValueError, match="one of them per neuron"):
            bank.reset_parameters(selem=selem, operation=bad)


def _level_sets(n_images, n_levels, generator, size=12):
    """Nested level sets of smooth random gray images and their complements: the densities
    of the channels range from nearly empty to nearly full, as on Fashion-MNIST."""
    gray = torch.rand(n_images, 1, size // 3, size // 3, generator=generator) ** 2
    gray = torch.nn.functional.interpolate(gray, size=(size, size), mode="bilinear")
    levels = torch.linspace(0, 1, n_levels + 2)[1:-1].view(1, -1, 1, 1)
    bits = (gray >= levels).double()
    return torch.cat([bits, 1 - bits], dim=1)


@pytest.mark.parametrize("seed", range(3))
def test_a_data_start_gives_activated_elements_that_fire_on_the_data(seed):
    generator = torch.Generator().manual_seed(seed)
    inputs = _level_sets(64, 7, generator)
    net = build_network(in_channels=14, conv_channels=[16, 8], kernel_sizes=[5, 3],
                        n_outputs=3, pooling="dilation", conv_layer="bise",
                        n_features=8 * 3 * 3, dtype=torch.float64)
    net.reset_parameters(0.5, generator, conv_operations=[None, None])
    net.data_start_(inputs, support_sizes=[3, 4], generator=generator, min_rate=0.05)
    x = inputs
    firing_rates = net.conv_firing_rates(inputs)
    for layer, pool, size, firing in zip(net.conv_layers, net.conv_pools(), [3, 4],
                                         firing_rates, strict=True):
        result = layer.neurons.activation()
        assert result.activated.all()
        assert (result.selem.sum(axis=1) == size).all()
        with torch.no_grad():
            out = layer(x).movedim(1, -1).reshape(-1, layer.out_channels)
        rate = (out > 0.5).double().mean(0)
        assert ((rate >= 0.05) & (rate <= 0.95)).all(), rate
        torch.testing.assert_close(firing, rate)  # the forward pass, thresholded
        x = pool((layer(x) > 0.5).double())
    # the random start it replaces: nearly every first-layer element of 7 weights is constant
    net.reset_parameters(0.5, generator, conv_operations=[None, None],
                         channel_support_fraction=7 / 350)
    with torch.no_grad():
        out = net.conv_layers[0](inputs).movedim(1, -1).reshape(-1, 16)
    rate = (out > 0.5).double().mean(0)
    assert ((rate < 0.05) | (rate > 0.95)).sum() >= 12


def test_bad_data_starts():
    inputs = _level_sets(4, 2, torch.Generator().manual_seed(0))
    net = build_network(in_channels=4, conv_channels=[4], kernel_sizes=3, n_outputs=2,
                        conv_layer="bise", n_features=4 * 12 * 12)
    with pytest.raises(ValueError, match="one entry per convolutional layer"):
        net.data_start_(inputs.float(), support_sizes=[2, 2])
    with pytest.raises(ValueError, match="min_rate"):
        net.data_start_(inputs.float(), support_sizes=[2], min_rate=0.5)
    bisel = build_network(in_channels=4, conv_channels=[4], kernel_sizes=3, n_outputs=2,
                          n_features=4 * 12 * 12)
    with pytest.raises(ValueError, match="conv_layer='bise'"):
        bisel.data_start_(inputs.float(), support_sizes=[2])
    with pytest.raises(ValueError, match="conv_layer='bise'"):
        bisel.conv_firing_rates(inputs.float())


def test_pair_start_elements_are_the_centre_and_one_neighbour():
    net = build_network(in_channels=1, conv_channels=[3, 1], kernel_sizes=5)
    net.reset_parameters(generator=torch.Generator().manual_seed(0),
                         conv_operations=("erosion", "dilation"), start_elements="pairs")
    first = net.conv_layers[0].bises.activation()
    assert first.activated.all() and (first.operation == "erosion").all()
    selems = first.selem.reshape(3, 5, 5)
    assert (selems.sum(axis=(1, 2)) == 2).all() and selems[:, 2, 2].all()
    assert not selems[:, [0, 4], :].any() and not selems[:, :, [0, 4]].any()
    single = net.conv_layers[1].bises.activation()  # 3 BiSEs too: pairs as well
    assert (single.selem.sum(axis=1) == 2).all()
    with pytest.raises(ValueError, match="start_elements must be one of"):
        net.reset_parameters(conv_operations=("erosion", "dilation"), start_elements="lines")


@pytest.mark.parametrize("seed", range(5))
def test_pair_start_elements_take_distinct_directions(seed):
    generator = torch.Generator().manual_seed(seed)
    net = build_network(in_channels=1, conv_channels=[4, 1], kernel_sizes=3)
    net.reset_parameters(generator=generator, conv_operations=("erosion", "dilation"),
                         start_elements="pairs")
    selems = net.conv_layers[0].bises.activation().selem.reshape(4, 3, 3)
    # a line through the centre: the element and its reflection give the direction
    directions = {tuple((s | s[::-1, ::-1]).flatten()) for s in selems}
    assert len(directions) == 4
    flat = build_network(in_channels=1, conv_channels=[3, 1], kernel_sizes=[(1, 3), 1])
    flat.reset_parameters(generator=generator, conv_operations=("erosion", "dilation"),
                          start_elements="pairs")  # only the horizontal direction fits
    assert flat.conv_layers[0].bises.activation().selem.sum(axis=1).tolist() == [2, 2, 2]


def test_bad_start_operations():
    net = build_network(in_channels=1, conv_channels=[1, 1], kernel_sizes=3)
    with pytest.raises(ValueError, match="one entry per BiSEL layer"):
        net.reset_parameters(conv_operations=("erosion",))
    with pytest.raises(ValueError, match="operation must be"):
        net.reset_parameters(conv_operations=("erosion", "opening"))


def test_bad_layer_options():
    with pytest.raises(ValueError, match="kernel_size"):
        BiSE(1, 1, 4)
    with pytest.raises(ValueError, match="padding"):
        BiSE(1, 1, 3, padding="reflect")
    with pytest.raises(ValueError, match="threshold"):
        DenseLUI(3, 2, threshold="relu")
    with pytest.raises(ValueError, match="weight_reparametrization"):
        DenseLUI(3, 2, weight_reparametrization="abs")
    with pytest.raises(ValueError, match="kernel_sizes"):
        build_network(in_channels=1, conv_channels=[1, 1], kernel_sizes=[3])
    with pytest.raises(ValueError, match="output_layer"):
        build_network(n_features=3, n_outputs=2, output_layer="softmax")
    with pytest.raises(ValueError, match="hidden_outputs must be one of"):
        build_network(in_channels=1, conv_channels=[1], hidden_outputs="hard")


@pytest.mark.parametrize("threshold", ["tanh", "sigmoid"])
@pytest.mark.parametrize(
    "shape",
    [
        {"in_channels": 1, "conv_channels": [1], "kernel_sizes": 3},  # BiSE only, no LUI
        {"in_channels": 2, "conv_channels": [3, 1], "kernel_sizes": 3},  # BiSEL with LUIs
        {"n_features": 6, "hidden_layer_sizes": [4], "n_outputs": 2, "output_layer": "binary"},
    ],
)
def test_logits_are_the_outputs_before_the_sigmoid(threshold, shape):
    net = build_network(threshold=threshold, **shape)
    net.reset_parameters(generator=torch.Generator().manual_seed(0))
    size = (5, shape["in_channels"], 8, 8) if "in_channels" in shape else (5, 6)
    x = (torch.rand(size, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    with torch.no_grad():
        torch.testing.assert_close(torch.sigmoid(net(x, logits=True)), net(x))


def test_a_head_gives_scores_with_or_without_logits():
    net = build_network(n_features=6, hidden_layer_sizes=[4], n_outputs=2)
    net.reset_parameters(generator=torch.Generator().manual_seed(0))
    x = (torch.rand(5, 6, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    torch.testing.assert_close(net(x, logits=True), net(x))


def test_head_dropout_drops_the_head_features_in_training_only():
    """In training the head reads each feature zeroed with probability p, the others scaled
    by 1 / (1 - p); in evaluation it reads them all, unscaled."""
    net = build_network(n_features=6, hidden_layer_sizes=[400], n_outputs=2, head_dropout=0.25)
    net.reset_parameters(generator=torch.Generator().manual_seed(0))
    x = (torch.rand(64, 6, generator=torch.Generator().manual_seed(1)) < 0.5).float()
    seen = []
    net.head.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    net.eval()
    with torch.no_grad():
        evaluated = net(x)
        features = seen[-1].clone()
        torch.testing.assert_close(evaluated, net.head(features))
        net.train()
        torch.manual_seed(0)
        net(x)
    dropped = seen[-1]
    kept = dropped != 0
    torch.testing.assert_close(dropped[kept], features[kept] / 0.75)
    firing = features != 0
    share = (~kept & firing).sum() / firing.sum()
    assert 0.2 < share.item() < 0.3


def test_bad_head_dropout():
    with pytest.raises(ValueError, match="head_dropout must be in"):
        build_network(n_features=6, hidden_layer_sizes=[4], n_outputs=2, head_dropout=1.0)
    with pytest.raises(ValueError, match=r"head_dropout=0\.5 needs a float head"):
        build_network(n_features=6, hidden_layer_sizes=[4], n_outputs=2,
                      output_layer="binary", head_dropout=0.5)
    with pytest.raises(ValueError, match=r"head_dropout=0\.5 needs a float head"):
        build_network(in_channels=1, conv_channels=[1], head_dropout=0.5)


@pytest.mark.parametrize(
    ("shape", "n_smooth"),
    [
        ({"in_channels": 2, "conv_channels": [3, 1], "kernel_sizes": 3}, 1),  # last LUI
        ({"in_channels": 1, "conv_channels": [2, 1], "kernel_sizes": 3}, 1),  # last BiSEs
        ({"n_features": 6, "hidden_layer_sizes": [4], "n_outputs": 2}, 0),  # float head
    ],
)
def test_binary_hidden_outputs_are_thresholded_forward_with_smooth_gradients(shape, n_smooth):
    net = build_network(hidden_outputs="binary", dtype=torch.float64, **shape)
    net.reset_parameters(generator=torch.Generator().manual_seed(0))
    banks = net.neuron_banks()
    assert [bank.straight_through for bank in banks].count(False) == n_smooth
    assert not banks[-1].straight_through or net.head is not None
    hidden = []
    original = banks[0].scaled_output
    banks[0].scaled_output = lambda *args, **kw: hidden.append(original(*args, **kw)) or hidden[-1]
    size = (3, shape["in_channels"], 7, 7) if "in_channels" in shape else (3, 6)
    x = (torch.rand(size, generator=torch.Generator().manual_seed(1)) < 0.5).double()
    out = net(x)
    assert set(torch.unique(hidden[0]).tolist()) <= {0.0, 1.0}
    if net.head is None:
        assert not set(torch.unique(out).tolist()) <= {0.0, 1.0}  # the output stays smooth
    out.sum().backward()
    first = banks[0]
    assert first.raw_weight.grad.abs().sum() > 0 and first.raw_bias.grad.abs().sum() > 0
    smooth = build_network(dtype=torch.float64, **shape)
    smooth.load_state_dict(net.state_dict())
    assert not any(bank.straight_through for bank in smooth.neuron_banks())


@pytest.mark.parametrize("weight_kind", WEIGHT_REPARAMETRIZATIONS)
def test_a_signed_start_puts_each_draw_on_an_input_or_on_its_complement(weight_kind):
    bank = MorphologicalNeurons(16, (6, 3, 3), weight_reparametrization=weight_kind,
                                dtype=torch.float64)
    bank.reset_signed_(torch.Generator().manual_seed(0))
    weights = bank.weight.detach()
    if weight_kind == "dual":  # normalized to sum to n_weights: compare the shares
        weights = weights / weights.sum(dim=(1, 2, 3), keepdim=True)
    inputs, complements = weights[:, :3], weights[:, 3:]
    small, large = torch.minimum(inputs, complements), torch.maximum(inputs, complements)
    assert (small < 0.05 * large.mean()).float().mean() > 0.95
    # dense, of both signs: about as many draws on the inputs as on the complements
    assert 0.4 < (inputs > complements).float().mean() < 0.6
    with pytest.raises(ValueError, match="inputs in pairs"):
        MorphologicalNeurons(2, (3, 3, 3)).reset_signed_()


@pytest.mark.parametrize("normalization", [None, "batch"])
@pytest.mark.parametrize("kind", ["conv", "dense"])
def test_a_signed_start_thresholds_the_first_layer_at_its_median(kind, normalization):
    generator = torch.Generator().manual_seed(0)
    bits = (torch.rand(64, 3, 8, 8, generator=generator) < 0.3).double()
    inputs = torch.cat([bits, 1 - bits], dim=1)  # the level sets, then their complements
    if kind == "conv":
        net = build_network(in_channels=6, conv_channels=[8], kernel_sizes=3, n_outputs=2,
                            pooling="dilation", conv_layer="bise", normalization=normalization,
                            n_features=8 * 4 * 4, dtype=torch.float64)
    else:
        inputs = inputs.flatten(1)
        net = build_network(n_features=inputs.shape[1], hidden_layer_sizes=[8], n_outputs=2,
                            normalization=normalization, dtype=torch.float64)
    first = [*net.conv_layers, *net.dense_layers][0]
    net.signed_start_(inputs, generator).eval()
    with torch.no_grad():
        logits = first(inputs, logits=True).movedim(1, -1).reshape(-1, 8)
    # half the outputs start on, the logits (2 p (pre - b)) have a standard deviation of 2
    np.testing.assert_allclose((logits > 0).double().mean(0), 0.5, atol=0.05)
    np.testing.assert_allclose(logits.std(0), 2.0, rtol=1e-6)
    bisel = build_network(in_channels=6, conv_channels=[4], kernel_sizes=3, conv_layer="bisel")
    with pytest.raises(ValueError, match="BiSE or DenseLUI first layer"):
        bisel.signed_start_(inputs)


@pytest.mark.parametrize("padding", ["replicate", "zeros"])
def test_complement_inputs_convolve_as_the_built_complements(padding):
    """The complements are folded into one convolution over the inputs: the pre-activations
    and their gradients are those of the convolution over the inputs and their complements."""
    torch.manual_seed(0)
    layer = BiSE(3, 4, (3, 5), padding=padding, complement_inputs=True, dtype=torch.float64)
    x = (torch.rand(2, 3, 7, 9, dtype=torch.float64) < 0.4).double()
    weight = layer.neurons.weight
    built = torch.nn.functional.conv2d(pad(layer.read(x), layer.kernel_size, padding), weight)
    folded = layer.pre_activation(x)
    torch.testing.assert_close(folded, built)
    (grad_folded,) = torch.autograd.grad(folded.square().sum(), layer.neurons.raw_weight)
    (grad_built,) = torch.autograd.grad(built.square().sum(), layer.neurons.raw_weight)
    torch.testing.assert_close(grad_folded, grad_built)
    elements = (torch.rand(weight.shape, dtype=torch.float64) < 0.3).double()
    counts = torch.nn.functional.conv2d(pad(layer.read(x), layer.kernel_size, padding), elements)
    assert torch.equal(layer.convolve(x, elements), counts)  # whole counts, exactly


@pytest.mark.parametrize("padding", ["replicate", "zeros"])
@pytest.mark.parametrize("kernel_size", [(3, 5), 1])
def test_paired_inputs_convolve_as_the_inputs_with_their_complements(padding, kernel_size):
    """Inputs given with their complements: the layer folds the complements' weights into one
    convolution over the first half of the channels; pre-activations and gradients are those
    of the plain layer over all the channels."""
    torch.manual_seed(0)
    paired = BiSE(6, 4, kernel_size, padding=padding, paired_inputs=True, dtype=torch.float64)
    plain = BiSE(6, 4, kernel_size, padding=padding, dtype=torch.float64)
    plain.load_state_dict(paired.state_dict())
    x = (torch.rand(2, 3, 7, 9, dtype=torch.float64) < 0.4).double()
    x = torch.cat([x, 1 - x], dim=1)
    folded, built = paired.pre_activation(x), plain.pre_activation(x)
    torch.testing.assert_close(folded, built)
    (grad_folded,) = torch.autograd.grad(folded.square().sum(), paired.neurons.raw_weight)
    (grad_built,) = torch.autograd.grad(built.square().sum(), plain.neurons.raw_weight)
    torch.testing.assert_close(grad_folded, grad_built)
    torch.testing.assert_close(paired(x), plain(x))
    assert "paired_inputs=True" in repr(paired)
    for bad in (dict(in_channels=5), dict(in_channels=6, complement_inputs=True)):
        options = {"out_channels": 2, "kernel_size": 3, "paired_inputs": True, **bad}
        with pytest.raises(ValueError, match="paired_inputs needs an even number"):
            BiSE(**options)


@pytest.mark.parametrize("threshold", ["tanh", "sigmoid"])
def test_threshold_step_is_the_step_forward_and_the_smooth_slope_backward(threshold):
    x = torch.linspace(-4, 4, 41, dtype=torch.float64, requires_grad=True)
    stepped = threshold_step(x, threshold)
    assert torch.equal(stepped, (x > 0).double())
    (grad_step,) = torch.autograd.grad((stepped * torch.arange(41.0)).sum(), x)
    (grad_smooth,) = torch.autograd.grad(
        (smooth_threshold(x, threshold) * torch.arange(41.0)).sum(), x)
    torch.testing.assert_close(grad_step, grad_smooth)


def _neuron_formula(layer, x, straight_through):
    """xi(p (x . w - b)) from the layer's pre-activations, thresholded at 1/2 forward with
    the smooth gradient backward if straight_through: the formula the folded forward computes."""
    neurons = layer.neurons
    shape = (1, -1, 1, 1) if x.dim() == 4 else (1, -1)
    smooth = smooth_threshold(neurons.output_scale().view(shape) * (
        layer.pre_activation(x) - neurons.bias.view(shape)), neurons.threshold)
    return straight_through_binary(smooth) if straight_through else smooth


@pytest.mark.parametrize("straight_through", [False, True])
@pytest.mark.parametrize("normalization", [None, "batch"])
@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: BiSE(3, 4, (3, 5), padding="replicate", complement_inputs=True, **kw),
        lambda **kw: BiSE(3, 4, (3, 5), padding="zeros", complement_inputs=True, **kw),
        lambda **kw: BiSE(3, 4, 3, padding="zeros", **kw),
        lambda **kw: DenseLUI(12, 5, **kw),
    ],
)
def test_the_scale_and_bias_folded_into_the_layer_give_the_neuron_formula(
        make, normalization, straight_through):
    """The forward pass folds p and b into the convolution (or the linear map): its outputs
    and their gradients are those of xi(p (x . w - b)) computed step by step."""
    torch.manual_seed(0)
    layer = make(threshold="sigmoid", normalization=normalization, dtype=torch.float64)
    layer.neurons.straight_through = straight_through
    if normalization == "batch":
        layer.neurons.running_mean.uniform_(0, 2)
        layer.neurons.running_var.uniform_(0.5, 2)
        layer.eval()  # in training the batch statistics are used: no folding
    x = (torch.rand(2, 3, 7, 9) < 0.4).double() if isinstance(layer, BiSE) else \
        (torch.rand(6, 12) < 0.4).double()
    with torch.no_grad():  # biases near the median pre-activation: outputs 0 and 1 both
        pre = layer.pre_activation(x).movedim(1, -1).reshape(-1, layer.neurons.n_neurons)
        layer.neurons.set_bias_and_scale(pre.median(0).values + 0.0123,
                                         torch.full((layer.neurons.n_neurons,), 0.7))
    folded, expected = layer(x), _neuron_formula(layer, x, straight_through)
    torch.testing.assert_close(folded, expected)
    if straight_through:
        assert set(folded.unique().tolist()) == {0.0, 1.0}
    weights = torch.rand(folded.shape, dtype=torch.float64)
    parameters = [layer.neurons.raw_weight, layer.neurons.raw_bias, layer.neurons.scale.log_scale]
    grads = torch.autograd.grad((folded * weights).sum(), parameters)
    expected_grads = torch.autograd.grad((expected * weights).sum(), parameters)
    for grad, expected_grad in zip(grads, expected_grads, strict=True):
        torch.testing.assert_close(grad, expected_grad)


def test_module_apply_visits_every_submodule():
    """torch's Module.apply (an initialization hook users call) still reaches every module:
    no layer or bank shadows it."""
    network = build_network(in_channels=2, conv_channels=[3], kernel_sizes=3,
                            n_features=3 * 8 * 8, hidden_layer_sizes=[4], n_outputs=2,
                            conv_layer="bise")
    visited = []
    network.apply(visited.append)
    assert len(visited) == len(list(network.modules()))
    assert sum(isinstance(module, MorphologicalNeurons) for module in visited) == 2

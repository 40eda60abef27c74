import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.optim.optimizer import register_optimizer_step_post_hook

from skmorph.morphology import dilation, erosion, opening
from skmorph.nn import (
    Regularizer,
    TrainingOptions,
    build_network,
    native_bfloat16,
    train,
)
from skmorph.nn.augmentation import compose, random_horizontal_flip, random_shift

SELEM = np.array([[0, 1, 0], [1, 1, 0], [0, 1, 1]], bool)  # asymmetric on purpose


def apply_binarized(bank, images):
    """Apply a binarized single-channel BiSE with skmorph.morphology (zero padding).

    The float layer is a correlation, ``sum_k w_k x(p + k)``: an erosion by S in scipy's
    convention, and a dilation by the *reflected* S.
    """
    neurons = bank.binarize("exact")
    selem = neurons.selem[0].reshape(bank.weight_shape[-2:])
    if neurons.operation[0] == "dilation":
        return dilation(images, selem[::-1, ::-1])
    return erosion(images, selem)


def fit(images, targets, channels, seed=0, epochs=100, regularizer=None, **options):
    generator = torch.Generator().manual_seed(seed)
    network = build_network(in_channels=1, conv_channels=channels, kernel_sizes=3, padding="zeros")
    network.reset_parameters(images.mean(), generator)
    history = train(
        network,
        F.binary_cross_entropy,
        torch.tensor(images[:, None], dtype=torch.float32),
        torch.tensor(targets[:, None], dtype=torch.float32),
        options=TrainingOptions(max_epochs=epochs, batch_size=32, learning_rate=0.05, **options),
        regularizer=regularizer or Regularizer(),
        generator=generator,
    )
    return network, history


@pytest.mark.parametrize(("operation", "density"), [(dilation, 0.3), (erosion, 0.8)])
def test_a_single_bise_learns_a_known_selem_and_binarizes_exactly(operation, density):
    rng = np.random.default_rng(0)
    images = rng.random((240, 20, 20)) < density
    network, _ = fit(images, operation(images, SELEM), [1])
    bank = network.neuron_banks()[0]
    result = bank.activation()
    assert result.activated.all()
    assert result.operation[0] == operation.__name__
    learned = result.selem[0].reshape(3, 3)
    np.testing.assert_array_equal(learned if operation is erosion else learned[::-1, ::-1], SELEM)
    held_out = rng.random((20, 31, 37)) < density  # other sizes: fully convolutional
    np.testing.assert_array_equal(apply_binarized(bank, held_out), operation(held_out, SELEM))


def test_two_layers_learn_an_opening():
    rng = np.random.default_rng(1)
    images = rng.random((300, 20, 20)) < 0.7
    network, _ = fit(images, opening(images, SELEM), [1, 1])
    first, second = network.neuron_banks()
    assert first.activation().activated.all() and second.activation().activated.all()
    held_out = rng.random((20, 25, 25)) < 0.7
    output = apply_binarized(second, apply_binarized(first, held_out))
    np.testing.assert_array_equal(output, opening(held_out, SELEM))
    # the float network thresholded at 1/2 agrees with the binarized pipeline
    with torch.no_grad():
        float_output = network(torch.tensor(held_out[:, None], dtype=torch.float32))[:, 0] > 0.5
    np.testing.assert_array_equal(float_output.numpy(), output)


def test_same_seed_gives_identical_weights():
    rng = np.random.default_rng(2)
    images = rng.random((64, 12, 12)) < 0.5
    targets = dilation(images, SELEM)
    first, history_a = fit(images, targets, [2, 1], seed=3, epochs=3)
    second, history_b = fit(images, targets, [2, 1], seed=3, epochs=3)
    for a, b in zip(first.state_dict().values(), second.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [h["loss"] for h in history_a] == [h["loss"] for h in history_b]
    third, _ = fit(images, targets, [2, 1], seed=4, epochs=3)
    assert not torch.equal(first.neuron_banks()[0].raw_weight, third.neuron_banks()[0].raw_weight)


def test_adam_updates_the_parameters_of_a_cpu_network_in_one_fused_step():
    rng = np.random.default_rng(3)
    images = rng.random((64, 12, 12)) < 0.5
    fused = []
    handle = register_optimizer_step_post_hook(
        lambda optimizer, args, kwargs: fused.append(optimizer.defaults["fused"]))
    try:
        fit(images, dilation(images, SELEM), [1], epochs=1)
    finally:
        handle.remove()
    assert fused and all(fused)


def test_history_records_each_epoch():
    rng = np.random.default_rng(3)
    images = rng.random((64, 12, 12)) < 0.5
    _, history = fit(images, dilation(images, SELEM), [1], epochs=4, n_iter_no_change=100)
    assert [h["epoch"] for h in history] == [1, 2, 3, 4]
    for key in ("loss", "data_loss", "regularization", "activated_fraction", "learning_rate"):
        assert all(np.isfinite(h[key]) for h in history)
    assert history[-1]["loss"] < history[0]["loss"]


def test_history_and_log_give_the_activated_share_of_each_bank(capsys):
    rng = np.random.default_rng(3)
    images = rng.random((64, 12, 12)) < 0.5
    network, history = fit(images, dilation(images, SELEM), [2, 1], epochs=2, verbose=1)
    counts = network.activated_counts()
    assert len(counts) == len(network.neuron_banks()) == len(history[-1]["activated_by_bank"])
    assert history[-1]["activated_by_bank"] == [a / n for a, n in counts]
    assert history[-1]["activated_fraction"] == network.activated_fraction()
    shares = " ".join(f"{a / n:.0%}" for a, n in counts)
    assert f"({shares})" in capsys.readouterr().out.splitlines()[-1]



def test_bfloat16_forward_passes_learn_the_element_and_keep_float32_parameters():
    """Under precision="bfloat16" the forward pass runs in autocast, everything else in
    float32; the element is still learned, binarized exactly, and a second run with the same
    seed gives the same weights."""
    rng = np.random.default_rng(0)
    images = rng.random((240, 20, 20)) < 0.3
    autocast = []

    def record(module, inputs, output):
        autocast.append((torch.is_autocast_enabled("cpu"), torch.get_autocast_dtype("cpu")))

    generator = torch.Generator().manual_seed(0)
    network = build_network(in_channels=1, conv_channels=[1], kernel_sizes=3, padding="zeros")
    network.reset_parameters(images.mean(), generator)
    handle = network.register_forward_hook(record)
    inputs = torch.tensor(images[:, None], dtype=torch.float32)
    targets = torch.tensor(dilation(images, SELEM)[:, None], dtype=torch.float32)
    options = TrainingOptions(max_epochs=100, batch_size=32, learning_rate=0.05,
                              precision="bfloat16")
    train(network, F.binary_cross_entropy, inputs, targets, options=options,
          regularizer=Regularizer(), generator=generator)
    handle.remove()
    assert autocast and set(autocast) == {(True, torch.bfloat16)}
    assert not torch.is_autocast_enabled("cpu")  # only inside the forward pass
    assert all(p.dtype == torch.float32 for p in network.parameters())
    bank = network.neuron_banks()[0]
    assert bank.activation().activated.all()
    held_out = rng.random((20, 31, 37)) < 0.3
    np.testing.assert_array_equal(apply_binarized(bank, held_out), dilation(held_out, SELEM))
    again, _ = fit(images, dilation(images, SELEM), [1], precision="bfloat16")
    for a, b in zip(network.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_float32_forward_passes_run_without_autocast():
    rng = np.random.default_rng(3)
    images = rng.random((64, 12, 12)) < 0.5
    generator = torch.Generator().manual_seed(0)
    network = build_network(in_channels=1, conv_channels=[1], kernel_sizes=3, padding="zeros")
    seen = []
    network.register_forward_hook(lambda *_: seen.append(torch.is_autocast_enabled("cpu")))
    train(network, F.binary_cross_entropy, torch.tensor(images[:, None], dtype=torch.float32),
          torch.tensor(dilation(images, SELEM)[:, None], dtype=torch.float32),
          options=TrainingOptions(max_epochs=1, batch_size=32), regularizer=Regularizer(),
          generator=generator)
    assert seen and not any(seen)


def test_native_bfloat16_says_whether_the_device_computes_it():
    assert isinstance(native_bfloat16(torch.device("cpu")), bool)
    assert native_bfloat16(torch.device("meta")) is False

def test_nan_loss_raises_a_clear_error():
    rng = np.random.default_rng(4)
    images = rng.random((16, 8, 8)) < 0.5
    network = build_network(in_channels=1, conv_channels=[1], kernel_sizes=3)
    with pytest.raises(FloatingPointError, match="lower learning_rate"):
        train(
            network,
            lambda output, target: (output * torch.tensor(float("nan"))).mean(),
            torch.tensor(images[:, None], dtype=torch.float32),
            torch.tensor(images[:, None], dtype=torch.float32),
            options=TrainingOptions(max_epochs=1),
            regularizer=Regularizer(),
            generator=torch.Generator().manual_seed(0),
        )


def test_parameters_that_become_non_finite_with_a_finite_loss_raise_a_clear_error():
    rng = np.random.default_rng(4)
    images = torch.tensor(rng.random((16, 8, 8)) < 0.5, dtype=torch.float32)[:, None]
    network = build_network(in_channels=1, conv_channels=[1], kernel_sizes=3)

    def break_a_weight(optimizer, args, kwargs):  # the loss was finite, the step was not
        with torch.no_grad():
            network.conv_layers[0].bises.raw_bias.fill_(float("inf"))

    handle = register_optimizer_step_post_hook(break_a_weight)
    try:
        with pytest.raises(FloatingPointError, match=r"diverged.*raw_bias.*epoch 1"):
            train(network, torch.nn.functional.mse_loss, images, images,
                  options=TrainingOptions(max_epochs=1, batch_size=16),
                  regularizer=Regularizer(), generator=torch.Generator().manual_seed(0))
    finally:
        handle.remove()


def test_validation_early_stopping_restores_the_best_weights():
    rng = np.random.default_rng(5)
    images = torch.tensor(rng.random((32, 8, 8)) < 0.5, dtype=torch.float32)[:, None]
    network = build_network(in_channels=1, conv_channels=[1], kernel_sizes=3)
    scores, states = iter([0.5, 0.9, 0.7, 0.6, 0.4]), []

    def score(net, x, y):
        states.append({k: v.clone() for k, v in net.state_dict().items()})
        return next(scores)

    history = train(
        network,
        F.mse_loss,
        images,
        1 - images,
        options=TrainingOptions(max_epochs=5, n_iter_no_change=3, learning_rate=0.1),
        regularizer=Regularizer(),
        generator=torch.Generator().manual_seed(0),
        validation=(images, 1 - images),
        score=score,
    )
    assert len(history) == 5 and [h["validation_score"] for h in history][1] == 0.9
    for key, value in network.state_dict().items():
        assert torch.equal(value, states[1][key])


@pytest.mark.parametrize(
    "kind", ["activable", "constant_exact", "constant_uniform", "constant_normal"]
)
def test_regularization_is_delayed_then_lowers_the_distance(kind):
    rng = np.random.default_rng(6)
    images = rng.random((128, 12, 12)) < 0.5
    targets = dilation(images, SELEM)
    steps_per_epoch = 4
    regularizer = Regularizer(kind, weight=1.0, delay=2 * steps_per_epoch)
    _, history = fit(
        images, targets, [1], epochs=6, regularizer=regularizer, n_iter_no_change=100
    )
    assert history[0]["regularization"] == 0 and history[1]["regularization"] == 0
    assert history[2]["regularization"] > 0
    assert history[-1]["regularization"] < history[2]["regularization"]


def test_regularizer_rejects_unknown_kind():
    with pytest.raises(ValueError, match="regularization"):
        Regularizer("l1", 1.0)


def _learning_rates(schedule, warmup_steps, epochs=4, n=64, batch_size=16):
    """The learning rate of every optimizer step of a small training run."""
    rates = []
    handle = register_optimizer_step_post_hook(
        lambda optimizer, args, kwargs: rates.append(optimizer.param_groups[0]["lr"]))
    images = torch.tensor(np.random.default_rng(0).random((n, 8, 8)) < 0.5,
                          dtype=torch.float32)[:, None]
    network = build_network(in_channels=1, conv_channels=[1], kernel_sizes=3)
    network.reset_parameters(0.5, torch.Generator().manual_seed(0))
    try:
        train(network, F.binary_cross_entropy, images, images,
              options=TrainingOptions(max_epochs=epochs, batch_size=batch_size,
                                      learning_rate=0.01, schedule=schedule,
                                      warmup_steps=warmup_steps, n_iter_no_change=epochs),
              regularizer=Regularizer(), generator=torch.Generator().manual_seed(0))
    finally:
        handle.remove()
    return np.array(rates)


@pytest.mark.parametrize("schedule", ["cosine", "plateau"])
def test_warmup_raises_the_learning_rate_linearly_then_hands_over_to_the_schedule(schedule):
    rates = _learning_rates(schedule, warmup_steps=5)  # 16 steps: 4 epochs of 4 batches
    np.testing.assert_allclose(rates[:5], 0.01 * np.arange(1, 6) / 5)
    if schedule == "cosine":  # a half cosine over the 11 remaining steps, from the peak
        np.testing.assert_allclose(rates[5:], 0.005 * (1 + np.cos(np.pi * np.arange(11) / 11)))
    else:
        assert np.all(rates[5:] <= 0.01) and rates[5] == 0.01


def test_without_warmup_the_cosine_schedule_starts_at_the_learning_rate():
    rates = _learning_rates("cosine", warmup_steps=0)
    assert rates[0] == 0.01
    assert np.all(np.diff(rates) < 0)


def test_random_horizontal_flip_mirrors_about_half_the_images_reproducibly():
    images = torch.rand(400, 3, 5, 7, generator=torch.Generator().manual_seed(0))
    flipped = random_horizontal_flip(images, torch.Generator().manual_seed(1))
    mirrored = (flipped == images.flip(3)).flatten(1).all(1)
    kept = (flipped == images).flatten(1).all(1)
    assert torch.all(mirrored ^ kept)  # each image whole, as given or mirrored
    assert 160 < mirrored.sum() < 240
    again = random_horizontal_flip(images, torch.Generator().manual_seed(1))
    assert torch.equal(flipped, again)
    with pytest.raises(ValueError, match=r"needs images \(n, channels, H, W\)"):
        random_horizontal_flip(images.flatten(1), torch.Generator())


def test_augment_transforms_every_training_batch_and_never_the_validation_data():
    images = torch.tensor(np.random.default_rng(6).random((40, 8, 8)) < 0.5,
                          dtype=torch.float32)[:, None]
    network = build_network(in_channels=1, conv_channels=[1], kernel_sizes=3)
    network.reset_parameters(0.5, torch.Generator().manual_seed(0))
    generator = torch.Generator().manual_seed(0)
    made, seen, scored = [], [], []

    def augment(batch, given):
        assert given is generator
        made.append(1 - batch)
        return made[-1]

    handle = network.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    try:
        train(network, F.binary_cross_entropy, images, images,
              options=TrainingOptions(max_epochs=2, batch_size=16, augment=augment),
              regularizer=Regularizer(), generator=generator, validation=(images, images),
              score=lambda net, x, y: scored.append(x) or 0.0)
    finally:
        handle.remove()
    assert len(made) == 6  # 3 batches per epoch
    training = [x for x in seen if x.shape[0] <= 16]
    assert all(x is y for x, y in zip(training, made, strict=True))
    assert all(x is images for x in scored)


def test_random_shift_translates_each_image_by_at_most_one_pixel_edges_repeated():
    generator = torch.Generator().manual_seed(2)
    images = torch.rand(300, 2, 6, 7, generator=generator)
    shifted = random_shift(images, torch.Generator().manual_seed(3))
    padded = F.pad(images, (1, 1, 1, 1), mode="replicate")
    found = []
    for image, result in zip(padded, shifted, strict=True):
        matches = [(dy, dx) for dy in range(3) for dx in range(3)
                   if torch.equal(image[:, dy:dy + 6, dx:dx + 7], result)]
        assert matches
        found.append(matches[0])
    assert len(set(found)) == 9  # every translation drawn
    assert torch.equal(shifted, random_shift(images, torch.Generator().manual_seed(3)))


def test_compose_applies_augmentations_in_order():
    images = torch.rand(50, 1, 4, 5, generator=torch.Generator().manual_seed(0))
    both = compose(random_horizontal_flip, random_shift)(images, torch.Generator().manual_seed(4))
    generator = torch.Generator().manual_seed(4)
    expected = random_shift(random_horizontal_flip(images, generator), generator)
    assert torch.equal(both, expected)

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from skmorph import MorphologicalTransformer
from skmorph.morphology import dilation, square
from skmorph.plotting import float_and_binarized_outputs, plot_selems, plot_transform


@pytest.fixture(scope="module")
def model_and_images():
    rng = np.random.default_rng(0)
    images = rng.random((40, 16, 16)) < 0.3
    model = MorphologicalTransformer(kernel_size=3, max_epochs=3, n_init=1, random_state=0,
                                     device="cpu")
    return model.fit(images, dilation(images, square(3))), images


def test_plot_transform_draws_one_row_per_image_and_restores_inference(
    model_and_images, tmp_path
):
    model, images = model_and_images
    path = tmp_path / "transform.png"
    figure = plot_transform(model, images, dilation(images, square(3)), n_images=2, path=path)
    assert path.stat().st_size > 0
    assert len(figure.axes) == 2 * 5
    titles = [ax.get_title() for ax in figure.axes]
    assert any(t.startswith("binarized, Dice") for t in titles)
    assert model.inference == "binary"
    # without targets: no target column
    assert len(plot_transform(model, images.reshape(40, -1)[:1].reshape(1, 16, 16)).axes) == 4


def test_float_and_binarized_outputs_match_the_two_inference_modes(model_and_images):
    model, images = model_and_images
    floating, binarized = float_and_binarized_outputs(model.set_params(inference="float"),
                                                      images[:4])
    assert model.inference == "float"
    np.testing.assert_array_equal(floating, model.transform(images[:4]))
    model.set_params(inference="binary")
    np.testing.assert_array_equal(binarized, model.transform(images[:4]))


def test_plot_selems_saves_a_grid(tmp_path):
    figure = plot_selems([square(3), -np.eye(3)], titles=["a", "b"], ncols=3,
                         path=tmp_path / "s.png")
    assert (tmp_path / "s.png").exists() and len(figure.axes) == 3

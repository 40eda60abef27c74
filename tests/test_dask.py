"""Chunked images: skmorph's operators on dask arrays equal the in-memory results, whatever the
chunking; core skmorph does not import dask."""

import subprocess
import sys

import numpy as np
import pytest

from skmorph import MorphologicalTransformer
from skmorph.datasets import make_diskorect
from skmorph.morphology import (
    black_tophat,
    closing,
    dilation,
    disk,
    erosion,
    line,
    opening,
    white_tophat,
)

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

ASYMMETRIC = np.array([[0, 1, 1], [1, 1, 0], [0, 0, 0]], bool)
CHUNKINGS = [(1, 17, 23), (2, 5, 61), (3, 1, 1), (1, 61, 8), (3, 61, 61)]


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture(scope="module")
def images():
    return make_diskorect(3, size=61, random_state=0)


@pytest.mark.parametrize(
    "operation", [erosion, dilation, opening, closing, white_tophat, black_tophat])
@pytest.mark.parametrize("padding", ["zeros", "replicate"])
def test_operations_on_dask_arrays_equal_the_in_memory_result(images, operation, padding):
    for chunks in CHUNKINGS:  # chunk borders through shapes, chunks smaller than the reach
        for selem in (disk(3), line(7, 45), ASYMMETRIC):
            lazy = operation(da.from_array(images, chunks=chunks), selem, padding)
            assert isinstance(lazy, da.Array) and lazy.dtype == bool
            np.testing.assert_array_equal(lazy.compute(), operation(images, selem, padding),
                                          err_msg=f"{operation.__name__} {chunks}")


WIDE_CHUNKINGS = [(1, 40, 64), (2, 7, 128), (1, 150, 70), (1, 9, 1), (2, 33, 200)]


@pytest.fixture(scope="module")
def wide_images():
    return np.random.default_rng(7).random((2, 150, 333)) < 0.7


@pytest.mark.parametrize("operation", [erosion, opening, white_tophat])
@pytest.mark.parametrize("padding", ["zeros", "replicate"])
def test_packed_chunks_of_wide_images_equal_the_in_memory_result(wide_images, operation,
                                                                  padding):
    # boolean chunks are packed before their margins are taken: column chunks cut into
    # words, widths not multiples of 64 (rechunked), one-pixel chunks, a reach of two words
    for chunks in WIDE_CHUNKINGS:
        for selem in (disk(3), ASYMMETRIC, np.ones((1, 141), bool)):
            lazy = operation(da.from_array(wide_images, chunks=chunks), selem, padding)
            np.testing.assert_array_equal(lazy.compute(),
                                          operation(wide_images, selem, padding),
                                          err_msg=f"{operation.__name__} {chunks} {selem.shape}")


@pytest.mark.parametrize("dtype", [bool, np.uint8])
def test_reach_beyond_the_image(dtype):
    image = np.random.default_rng(8).random((2, 5, 61)) < 0.6
    for chunks in [(1, 5, 61), (1, 2, 30), (2, 1, 1)]:
        for selem in (np.ones((1, 141), bool), np.ones((21, 1), bool), disk(7)):
            lazy = opening(da.from_array(image.astype(dtype), chunks=chunks), selem)
            np.testing.assert_array_equal(lazy.compute(), opening(image, selem))


def test_zero_one_chunks_take_the_boolean_path(wide_images):
    numbers = da.from_array(wide_images.astype(np.uint8), chunks=(1, 40, 64))
    np.testing.assert_array_equal(opening(numbers, disk(3)).compute(),
                                  opening(wide_images, disk(3)))


@pytest.fixture(scope="module")
def tophat_model():
    X = make_diskorect(40, size=32, random_state=1)
    model = MorphologicalTransformer((2,), kernel_size=5, max_epochs=2, random_state=0,
                                     device="cpu")
    return model.fit(X, white_tophat(X, disk(2)))


@pytest.mark.parametrize("chunks", [(1, 16, 16), (2, 3, 70), (1, 1, 1)])
def test_transforms_on_dask_arrays_equal_the_in_memory_result(images, tophat_model, chunks):
    lazy = da.from_array(images, chunks=chunks)
    expected = tophat_model.transform(images)
    result = tophat_model.transform(lazy)
    assert isinstance(result, da.Array)
    np.testing.assert_array_equal(result.compute(), expected)
    np.testing.assert_array_equal(tophat_model.binarized_.transform(lazy).compute(), expected)
    four_d = da.from_array(images[:, None], chunks=(1, 1, *chunks[1:]))
    np.testing.assert_array_equal(tophat_model.transform(four_d).compute(), expected[:, None])
    assert tophat_model.binarized_.reach() == (4, 4)


@pytest.mark.parametrize("chunks", WIDE_CHUNKINGS)
def test_network_on_packed_chunks_of_wide_images(wide_images, tophat_model, chunks):
    expected = tophat_model.binarized_.transform(wide_images)
    lazy = tophat_model.binarized_.transform(da.from_array(wide_images, chunks=chunks))
    np.testing.assert_array_equal(lazy.compute(), expected)
    lazy = tophat_model.transform(da.from_array(wide_images, chunks=chunks))
    np.testing.assert_array_equal(lazy.compute(), expected)
    numbers = da.from_array(wide_images.astype(np.uint8), chunks=chunks)
    np.testing.assert_array_equal(tophat_model.binarized_.transform(numbers).compute(),
                                  expected)


def test_core_skmorph_does_not_import_dask():
    code = (
        "import sys, numpy as np\n"
        "from skmorph.morphology import opening, disk\n"
        "from skmorph.binary import BinarizedNetwork\n"
        "opening(np.ones((9, 9), bool), disk(1))\n"
        "assert not any(name.split('.')[0] == 'dask' for name in sys.modules), 'dask imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_grid_search_on_a_local_cluster_scores_as_n_jobs_1():
    distributed = pytest.importorskip("distributed")
    import joblib
    from sklearn.datasets import load_digits
    from sklearn.model_selection import GridSearchCV

    from skmorph import BiMoNNClassifier

    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    model = BiMoNNClassifier(hidden_layer_sizes=(16,), regularization="constant_exact",
                             max_epochs=3, random_state=0, device="cpu")
    grid = {"regularization_weight": [1e-3, 1e-1]}
    local = GridSearchCV(model, grid, cv=2, n_jobs=1).fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        # each worker process gives torch one thread (the estimators read OMP_NUM_THREADS)
        assert set(client.run(lambda: __import__("os").environ.get("OMP_NUM_THREADS"))
                   .values()) == {"1"}
        with joblib.parallel_config(backend="dask"):
            remote = GridSearchCV(model, grid, cv=2).fit(X, y)
    np.testing.assert_array_equal(remote.cv_results_["mean_test_score"],
                                  local.cv_results_["mean_test_score"])

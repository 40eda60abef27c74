"""Training on a CUDA device: the estimators fit there and hand back models that hold no CUDA
tensors, whose binarized predictors are the float networks thresholded, and load and predict
the same without torch. Skipped where no CUDA device is available (CI has none); run on a GPU
machine with ``python -m pytest tests/estimators/test_cuda.py``."""

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from skmorph import BiMoNNClassifier, MorphologicalTransformer
from skmorph.datasets import make_diskorect
from skmorph.morphology import dilation
from tests.test_imports import run_without_torch

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _on_cpu(model) -> bool:
    return all(tensor.device.type == "cpu"
               for tensor in [*model.network_.parameters(), *model.network_.buffers()])


def test_convolutional_classifier_trains_on_cuda_and_binarizes_exactly(digits, tmp_path):
    """The image default (calibrated binarization, each layer frozen in turn) trained on the
    GPU: every neuron exact, the predictor's probabilities the float network's (run on the
    GPU's weights, now on the CPU), and its JSON loads and predicts the same without torch."""
    X_train, X_test, y_train, _ = digits
    model = BiMoNNClassifier(input_shape=(8, 8), hidden_channels=(6, 8), kernel_size=3,
                             max_epochs=2, layerwise_epochs=1, refit_head=False,
                             random_state=0, device="cuda").fit(X_train[:400], y_train[:400])
    assert _on_cpu(model)
    report = model.binarization_report_
    assert report["n_exact"] == report["n_neurons"]
    binarized = model.predict_proba(X_test)
    floating = model.set_params(inference="float").predict_proba(X_test)
    model.set_params(inference="binary")
    np.testing.assert_allclose(binarized, floating, rtol=1e-4, atol=1e-5)
    model.binarized_.save(tmp_path / "model.json")
    np.save(tmp_path / "X.npy", X_test)
    result = run_without_torch(
        f"""
        import numpy as np
        from skmorph.binary import BinarizedNetwork
        loaded = BinarizedNetwork.load({str(tmp_path / "model.json")!r})
        np.save({str(tmp_path / "out.npy")!r}, loaded.predict(np.load({str(tmp_path / "X.npy")!r})))
        assert "torch" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "out.npy"), model.predict(X_test))


def test_a_cuda_fitted_classifier_unpickles_and_predicts_where_cuda_is_hidden(digits,
                                                                               tmp_path):
    X_train, X_test, y_train, _ = digits
    model = BiMoNNClassifier(max_epochs=2, regularization="constant_exact",
                             regularization_weight=1e-3, random_state=0,
                             device="cuda").fit(X_train, y_train)
    assert _on_cpu(model)
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    np.save(tmp_path / "X.npy", X_test)
    script = tmp_path / "predict.py"
    script.write_text(
        "import os, pickle, sys\n"
        "os.environ['CUDA_VISIBLE_DEVICES'] = ''\n"
        "import numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        f"model = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        f"X = np.load({str(tmp_path / 'X.npy')!r})\n"
        f"np.save({str(tmp_path / 'binary.npy')!r}, model.predict(X))\n"
        "model.set_params(inference='float')\n"
        f"np.save({str(tmp_path / 'float.npy')!r}, model.predict(X))\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    np.testing.assert_array_equal(np.load(tmp_path / "binary.npy"), model.predict(X_test))
    model.set_params(inference="float")
    np.testing.assert_array_equal(np.load(tmp_path / "float.npy"), model.predict(X_test))


def test_transformer_learns_a_dilation_on_cuda():
    """The transformer's dilation test (test_transformer.py) with the training on the GPU."""
    images = make_diskorect(200, size=32, random_state=0)
    selem = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], dtype=bool)
    model = MorphologicalTransformer(
        include_complement=False, regularization="activable", regularization_weight=1e-1,
        kernel_size=3, max_epochs=60, n_iter_no_change=30, n_init="auto",
        start_programs=False, random_state=0, device="cuda",
    ).fit(images, dilation(images, selem))
    assert _on_cpu(model)
    report = model.binarization_report_
    assert report["exact_network"] and report["n_exact"] == report["n_neurons"]
    held_out = make_diskorect(20, size=32, random_state=1)
    np.testing.assert_array_equal(model.transform(held_out), dilation(held_out, selem))
    np.testing.assert_array_equal(model.set_params(inference="float").transform(held_out),
                                  dilation(held_out, selem))

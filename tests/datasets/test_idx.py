import gzip
import struct

import numpy as np
import pytest

from skmorph.datasets import load_idx, load_mnist


def write_idx(path, array, type_code, compress=False):
    header = struct.pack(">HBB", 0, type_code, array.ndim) + struct.pack(
        f">{array.ndim}I", *array.shape
    )
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(data) if compress else data)


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize(
    ("dtype", "code"), [(np.uint8, 0x08), (np.int16, 0x0B), (np.int32, 0x0C), (np.float32, 0x0D)]
)
def test_round_trip(tmp_path, compress, dtype, code):
    array = (np.arange(2 * 3 * 4) - 7).reshape(2, 3, 4).astype(dtype)
    if dtype == np.uint8:
        array = np.abs(array).astype(np.uint8)
    write_idx(tmp_path / "a.idx", array, code, compress)
    loaded = load_idx(tmp_path / "a.idx")
    assert loaded.dtype == np.dtype(dtype) and loaded.dtype.isnative
    np.testing.assert_array_equal(loaded, array)


def test_load_mnist_layout(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 5, dtype=np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", images, 0x08, compress=True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, 0x08)
    got_images, got_labels = load_mnist(tmp_path, "test")
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    with pytest.raises(FileNotFoundError, match="train-images"):
        load_mnist(tmp_path, "train")
    with pytest.raises(ValueError, match="subset"):
        load_mnist(tmp_path, "validation")


def test_bad_files(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="not an IDX file"):
        load_idx(tmp_path / "bad")
    write_idx(tmp_path / "short", np.zeros((2, 2), np.uint8), 0x08)
    (tmp_path / "short").write_bytes((tmp_path / "short").read_bytes()[:-1])
    with pytest.raises(ValueError, match="header announces"):
        load_idx(tmp_path / "short")


def test_a_compressed_file_longer_than_its_header_is_refused_without_decompressing_it(tmp_path):
    import tracemalloc

    header = struct.pack(">HBB", 0, 0x08, 2) + struct.pack(">2I", 2, 2)
    payload = header + bytes(4) + bytes(200 * 2**20)  # 200 MB of zeros behind 4 announced
    (tmp_path / "bomb.gz").write_bytes(gzip.compress(payload, compresslevel=1))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="more than 4"):
            load_idx(tmp_path / "bomb.gz")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20


def test_a_header_announcing_more_than_the_file_holds_reads_only_the_file(tmp_path):
    header = struct.pack(">HBB", 0, 0x08, 3) + struct.pack(">3I", 60000, 28000, 28000)
    (tmp_path / "huge").write_bytes(header + bytes(100))
    with pytest.raises(ValueError, match="file holds 100"):
        load_idx(tmp_path / "huge")


def test_a_broken_gzip_stream_is_a_value_error(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros((30, 30), np.uint8), 0x08, compress=True)
    (tmp_path / "a.gz").write_bytes((tmp_path / "a.gz").read_bytes()[:-12])
    with pytest.raises(ValueError, match="IDX"):
        load_idx(tmp_path / "a.gz")

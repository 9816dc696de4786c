"""Tests of the prepared-dataset folder format."""
import numpy as np
import pandas as pd
import pytest

from backend.dataset import load_prepared, write_prepared


def _manifest(n):
    return pd.DataFrame({"source_path": [f"/s/{i}.jpg" for i in range(n)],
                         "crop_path": [f"/c/{i}.png" for i in range(n)],
                         "age": [25] * n, "gender": ["M", "F"] * (n // 2),
                         "label": [1] * n, "split": ["train"] * (n - 2) + ["val", "test"]})


def test_round_trip_keeps_rows_aligned(tmp_path):
    """Check that images and manifest rows come back aligned and images are memory-mapped."""
    images = np.arange(6 * 4 * 4 * 3, dtype=np.uint8).reshape(6, 4, 4, 3)
    write_prepared(tmp_path, images, _manifest(6), {"edges": [1, 20, 40], "labels": ["a", "b"]},
                   {"seed": 0}, {"n_images": 6})
    data = load_prepared(tmp_path)
    assert isinstance(data.images, np.memmap)
    test_images, test_labels, idx = data.subset("test")
    assert idx.tolist() == [5] and np.array_equal(test_images[0], images[5])
    assert data.n_classes == 2 and data.genders.tolist()[:2] == ["M", "F"]


def test_mismatched_rows_are_refused(tmp_path):
    """Check that writing 5 images with a 6-row manifest fails clearly."""
    with pytest.raises(ValueError, match="5 rows but manifest has 6"):
        write_prepared(tmp_path, np.zeros((5, 4, 4, 3), np.uint8), _manifest(6), {}, {}, {})


def test_missing_folder_is_a_clear_error(tmp_path):
    """Check that loading a folder without a manifest names the folder."""
    with pytest.raises(FileNotFoundError, match="no prepared dataset"):
        load_prepared(tmp_path / "nope")

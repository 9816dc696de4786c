"""The paper's preprocessing end to end: real faces in, a balanced split dataset out."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from backend.params import InvalidParameterError
from backend.preprocess import PreprocessConfig, prepare
from tests.worker.conftest import make_csv_source


@pytest.fixture(scope="module")
def utk_prepared(tmp_path_factory):
    """1,500 real UTKFace faces prepared with the paper's defaults (no detection needed)."""
    from tests.conftest import shared_data_root

    root = shared_data_root() / "utkface"
    if not root.exists():
        pytest.skip(f"real face data not found at {root} (set AGEREC_SHARED_DATA)")
    base = tmp_path_factory.mktemp("prep")
    config = PreprocessConfig(source="utkface", path=str(root), detector="none", image_size=32,
                              limit=1500, seed=3)
    result = prepare(config, base / "ds", base / "cache")
    manifest = pd.read_csv(base / "ds" / "manifest.csv", keep_default_na=False)
    unused = pd.read_csv(base / "ds" / "unused.csv", keep_default_na=False)
    return config, result, manifest, unused, base


@pytest.mark.shared_data
def test_every_class_is_exactly_half_women(utk_prepared):
    """Check that after rebalancing each class holds as many women as men."""
    _, result, manifest, _, _ = utk_prepared
    counts = manifest.groupby(["label", "gender"]).size().unstack(fill_value=0)
    assert (counts["M"] == counts["F"]).all()
    assert all(g["M"] == g["F"] for g in result.gender_by_class.values())


@pytest.mark.shared_data
def test_every_class_is_capped_at_sixty_percent_of_the_mean(utk_prepared):
    """Check each class against floor(0.6 x mean class size after gender rebalancing)."""
    _, _, manifest, unused, _ = utk_prepared
    rebalanced = pd.concat([manifest, unused[unused["dropped_by"] == "downsample"]])
    sizes = rebalanced.groupby("label").size()
    cap = math.floor(0.6 * sizes.mean())
    final = manifest.groupby("label").size()
    assert (final <= cap).all()
    assert (final[sizes > cap] == 2 * (cap // 2)).all()


@pytest.mark.shared_data
def test_split_is_80_10_10_per_class_within_one_image(utk_prepared):
    """Check each class's train/val/test counts against 80/10/10 of its size, +-1."""
    _, _, manifest, _, _ = utk_prepared
    for _, group in manifest.groupby("label"):
        n = len(group)
        for split, share in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
            assert abs((group["split"] == split).sum() - share * n) <= 1


@pytest.mark.shared_data
def test_rerun_hits_the_crop_cache_for_every_face(utk_prepared):
    """Check that preparing the same source again performs no detection at all."""
    config, first, _, _, base = utk_prepared
    again = prepare(config, base / "ds2", base / "cache")
    assert "detected" not in again.crop_stats and again.n_images == first.n_images


def test_summary_and_arrays_agree(tmp_path):
    """Check that images.npy rows, manifest rows and the recorded split counts agree."""
    csv = make_csv_source(tmp_path / "src", n=100)
    config = PreprocessConfig(source="csv", path=str(csv), detector="none", image_size=32)
    result = prepare(config, tmp_path / "ds", tmp_path / "cache")
    images = np.load(tmp_path / "ds" / "images.npy")
    summary = json.loads((tmp_path / "ds" / "summary.json").read_text())
    assert images.shape == (result.n_images, 32, 32, 3)
    assert sum(sum(v.values()) for v in summary["splits"].values()) == result.n_images


def test_unreadable_image_is_skipped_not_fatal(tmp_path):
    """Check that a corrupt JPEG is counted in skipped with a reason and the job goes on."""
    csv = make_csv_source(tmp_path / "src", n=50)
    (tmp_path / "src" / "img000.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    result = prepare(PreprocessConfig(source="csv", path=str(csv), detector="none",
                                      image_size=32), tmp_path / "ds", tmp_path / "cache")
    assert result.skipped.get("unreadable") == 1 and result.n_images > 0
    skipped = pd.read_csv(tmp_path / "ds" / "skipped.csv")
    assert "img000.jpg" in skipped.loc[0, "item"] and skipped.loc[0, "detail"]


def test_source_without_gender_skips_rebalancing_and_says_so(tmp_path):
    """Check that a source with no gender labels keeps its faces and notes the skip."""
    csv = make_csv_source(tmp_path / "src", n=30)
    text = csv.read_text().replace(",M\n", ",\n").replace(",F\n", ",\n")
    csv.write_text(text)
    result = prepare(PreprocessConfig(source="csv", path=str(csv), detector="none",
                                      image_size=32), tmp_path / "ds", tmp_path / "cache")
    assert result.n_images > 0
    assert any("no gender labels" in note for note in result.notes)


def test_bad_parameter_names_itself():
    """Check that an unknown detector is refused naming the parameter and the choices."""
    with pytest.raises(InvalidParameterError, match="'detector' parameter of preprocess"):
        PreprocessConfig(source="utkface", path="/x", detector="mtcnn")

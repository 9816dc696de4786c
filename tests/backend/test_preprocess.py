"""The paper's preprocessing end to end: real faces in, a balanced split dataset out."""
from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from backend.data.oversample import leaked_rows
from backend.params import InvalidParameterError
from backend.preprocess import PreprocessConfig, prepare
from tests.backend.data.readers.conftest import make_mat  # noqa: F401 (a fixture)
from tests.csv_source import make_csv_source


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
def test_real_faces_keep_their_race_as_a_group(utk_prepared):
    """Check that UTKFace's race names reach the prepared manifest as group_race."""
    manifest = utk_prepared[2]
    assert set(manifest["group_race"]) <= {"White", "Black", "Asian", "Indian", "Others", ""}
    assert {"White", "Black", "Asian", "Indian"} <= set(manifest["group_race"])


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


@pytest.mark.shared_data
def test_same_seed_gives_the_same_split_and_pixels(utk_prepared):
    """Check that preparing the same faces again with the same seed deals every face into
    the same split and writes the same images.npy."""
    config, _, manifest, _, base = utk_prepared
    prepare(config, base / "same", base / "cache")
    again = pd.read_csv(base / "same" / "manifest.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(again, manifest)
    np.testing.assert_array_equal(np.load(base / "same" / "images.npy"),
                                  np.load(base / "ds" / "images.npy"))


@pytest.mark.shared_data
def test_default_preprocessing_makes_no_copies(utk_prepared):
    """Check that without oversampling every manifest row is an original face."""
    _, result, manifest, _, _ = utk_prepared
    assert (manifest["copy_of"] == -1).all() and sum(result.copies.values()) == 0


@pytest.fixture(scope="module", params=["train", "before_split_leak"])
def utk_oversampled(request, tmp_path_factory):
    """600 real UTKFace faces prepared with one oversampling mode (32 px, no detection)."""
    from tests.conftest import shared_data_root

    root = shared_data_root() / "utkface"
    if not root.exists():
        pytest.skip(f"real face data not found at {root} (set AGEREC_SHARED_DATA)")
    base = tmp_path_factory.mktemp(f"oversample-{request.param}")
    config = PreprocessConfig(source="utkface", path=str(root), detector="none", image_size=32,
                              limit=600, seed=3, oversample=request.param)
    result = prepare(config, base / "ds", base / "cache")
    manifest = pd.read_csv(base / "ds" / "manifest.csv", keep_default_na=False)
    return request.param, result, manifest, np.load(base / "ds" / "images.npy")


@pytest.mark.shared_data
def test_oversampling_fills_short_classes_of_the_train_split(utk_oversampled):
    """Check that in both modes the train split gains copies until each class's train
    count is within one face of the largest class's."""
    _, _, manifest, _ = utk_oversampled
    train = manifest[manifest["split"] == "train"]
    assert (train["copy_of"] >= 0).sum() > 0
    counts = train.groupby("label").size()
    assert counts.max() - counts.min() <= 1


@pytest.mark.shared_data
def test_val_and_test_hold_copies_only_in_the_leak_mode(utk_oversampled):
    """Check that 'train' keeps copies out of val and test, and 'before_split_leak' puts
    copies of training faces into the test split (the paper's leak)."""
    mode, result, manifest, _ = utk_oversampled
    held_out = manifest[manifest["split"] != "train"]
    leaked = leaked_rows(manifest["split"].to_numpy(), manifest["copy_of"].to_numpy())
    if mode == "train":
        assert (held_out["copy_of"] == -1).all() and len(leaked) == 0
        assert result.copies["val"] == result.copies["test"] == 0
    else:
        assert (held_out["copy_of"] >= 0).sum() > 0 and len(leaked) > 0
        assert any("leak" in note for note in result.notes)


@pytest.mark.shared_data
def test_copies_are_augmented_not_pixel_duplicates(utk_oversampled):
    """Check that nearly every copy differs visibly from the face it was made from."""
    _, _, manifest, images = utk_oversampled
    copies = np.flatnonzero(manifest["copy_of"].to_numpy() >= 0)
    originals = manifest["copy_of"].to_numpy()[copies]
    diff = np.abs(images[copies].astype(int) - images[originals].astype(int)).mean(axis=(1, 2, 3))
    assert np.mean(diff > 2.0) > 0.9


def test_summary_and_arrays_agree(tmp_path):
    """Check that images.npy rows, manifest rows and the recorded split counts agree."""
    csv = make_csv_source(tmp_path / "src", n=100)
    config = PreprocessConfig(source="csv", path=str(csv), detector="none", image_size=32)
    result = prepare(config, tmp_path / "ds", tmp_path / "cache")
    images = np.load(tmp_path / "ds" / "images.npy")
    summary = json.loads((tmp_path / "ds" / "summary.json").read_text())
    assert images.shape == (result.n_images, 32, 32, 3)
    assert sum(sum(v.values()) for v in summary["splits"].values()) == result.n_images


def test_summary_records_the_class_counts_before_balancing(tmp_path):
    """Check that summary.json counts every usable face per class, the ones balancing
    dropped included: 40 faces of 20-39 against 10 of each other class."""
    csv = make_csv_source(tmp_path / "src", n=80, ages=(5, 25, 25, 25, 45, 65, 85, 25))
    result = prepare(PreprocessConfig(source="csv", path=str(csv), detector="none",
                                      image_size=32), tmp_path / "ds", tmp_path / "cache")
    summary = json.loads((tmp_path / "ds" / "summary.json").read_text())
    assert summary["source_class_counts"] == {"0": 10, "1": 40, "2": 10, "3": 10, "4": 10}
    assert sum(result.splits[s]["1"] for s in result.splits) < 40  # balancing dropped some


def test_group_labels_reach_the_manifest_and_the_unused_rows(tmp_path):
    """Check that a manifest's extra column is written as group_<name> for every prepared
    face and every unused one, and read back as a group with gender."""
    from backend.dataset import load_prepared

    csv = make_csv_source(tmp_path / "src", n=80, ages=(5, 25, 25, 25, 45, 65, 85, 25),
                          extra={"skin_tone": ("I", "II", "III")})
    prepare(PreprocessConfig(source="csv", path=str(csv), detector="none", image_size=32),
            tmp_path / "ds", tmp_path / "cache")
    data = load_prepared(tmp_path / "ds")
    unused = pd.read_csv(tmp_path / "ds" / "unused.csv", keep_default_na=False)
    assert set(data.manifest["group_skin_tone"]) == set(unused["group_skin_tone"]) == \
        {"I", "II", "III"}
    groups = data.groups(data.split_indices("test"))
    assert set(groups) == {"gender", "skin_tone"}
    assert len(groups["skin_tone"]) == len(data.split_indices("test"))


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


def _wiki_source(root, make_mat):
    """Forty IMDB-WIKI rows with images: every fourth has a weak face score (0.8), every
    fourth (offset by one) a second face; ages over the five classes, both genders."""
    rng = np.random.default_rng(0)
    rows = []
    for i in range(40):
        (root / "00").mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (48, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / "00" / f"{i}.jpg")
        rows.append({"photo_taken": 1990 + 20 * (i % 5) + 5, "gender": float(i % 2),
                     "face_score": 0.8 if i % 4 == 0 else 3.0,
                     "second_face_score": 2.0 if i % 4 == 1 else np.nan})
    return make_mat(root / "wiki.mat", rows)


def test_imdb_wiki_filters_are_parameters_recorded_with_the_dataset(tmp_path, make_mat):
    """Check that min_face_score and allow_second_face reach the reader (no row skipped for
    them when relaxed) and are written to the dataset's config.json."""
    mat = _wiki_source(tmp_path / "src", make_mat)
    kwargs = dict(source="imdb-wiki", path=str(tmp_path / "src"), meta=str(mat), detector="none",
                  image_size=32)
    strict = prepare(PreprocessConfig(**kwargs), tmp_path / "a", tmp_path / "cache")
    relaxed = prepare(PreprocessConfig(**kwargs, min_face_score=0.5, allow_second_face=True),
                      tmp_path / "b", tmp_path / "cache")
    assert (strict.skipped.get("low_face_score"), strict.skipped.get("second_face")) == (10, 10)
    assert not {"low_face_score", "second_face"} & set(relaxed.skipped)
    recorded = json.loads((tmp_path / "b" / "config.json").read_text())
    assert (recorded["min_face_score"], recorded["allow_second_face"]) == (0.5, True)


def test_face_filters_are_refused_for_a_source_without_face_scores():
    """Check that a face-score filter on UTKFace is an error naming the parameter."""
    with pytest.raises(InvalidParameterError, match="'min_face_score' parameter of preprocess"):
        PreprocessConfig(source="utkface", path="/x", min_face_score=2.0)


def test_max_faces_samples_among_detected_faces(tmp_path):
    """Check that max_faces counts the faces detection kept (an unreadable photo takes no
    place) and records the faces left out as unused 'max_faces' rows."""
    csv = make_csv_source(tmp_path / "src", n=60)
    for i in range(10):
        (tmp_path / "src" / f"img{i:03d}.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    result = prepare(PreprocessConfig(source="csv", path=str(csv), detector="none", image_size=32,
                                      max_faces=40), tmp_path / "ds", tmp_path / "cache")
    unused = pd.read_csv(tmp_path / "ds" / "unused.csv", keep_default_na=False)
    sampled_out = (unused["dropped_by"] == "max_faces").sum()
    assert result.skipped["unreadable"] == 10 and sampled_out == 10
    assert result.n_images + len(unused) - sampled_out == 40


@pytest.fixture(scope="module")
def utk_all_faces(utk_prepared):
    """The same 1,500 faces prepared with keep_all_faces."""
    from dataclasses import replace

    config, _, _, _, base = utk_prepared
    prepare(replace(config, keep_all_faces=True), base / "all", base / "cache")
    read = lambda name: pd.read_csv(base / "all" / name, keep_default_na=False)  # noqa: E731
    return read("manifest.csv"), read("unused.csv"), read("natural.csv")


@pytest.mark.shared_data
def test_keep_all_faces_adds_left_out_faces_to_train_only(utk_prepared, utk_all_faces):
    """Check that keep_all_faces keeps the balanced rows and their splits, and adds only
    train rows, marked extra."""
    _, _, manifest, _, _ = utk_prepared
    everything, _, _ = utk_all_faces
    balanced = everything[~everything["extra"].astype(bool)].drop(columns="extra")
    pd.testing.assert_frame_equal(balanced.reset_index(drop=True), manifest)
    added = everything[everything["extra"].astype(bool)]
    assert len(added) > 0 and set(added["split"]) == {"train"}


@pytest.mark.shared_data
def test_keep_all_faces_reserves_the_benchmarks_natural_set(utk_prepared, utk_all_faces):
    """Check that natural.csv is the natural set the benchmark draws from the balanced
    dataset, that none of its faces trains, and that every face is used once."""
    from bench.natural import natural_test_frame, source_class_counts

    _, _, manifest, unused, base = utk_prepared
    everything, left, natural = utk_all_faces
    expected = natural_test_frame(base / "ds", source_class_counts(base / "ds"), seed=3)
    assert sorted(natural["source_path"]) == sorted(expected["source_path"])
    train = set(everything.loc[everything["split"] == "train", "source_path"])
    assert not train & set(natural["source_path"])
    assert len(everything) + len(left) == len(manifest) + len(unused)
    assert set(left["source_path"]) <= set(natural["source_path"])


def test_keep_all_faces_refuses_oversampling():
    """Check that keep_all_faces with copies is refused, naming oversample."""
    with pytest.raises(InvalidParameterError, match="'oversample' parameter"):
        PreprocessConfig(source="utkface", path="/x", keep_all_faces=True, oversample="train")


def test_a_non_utf8_file_name_is_skipped_and_named_while_the_rest_is_prepared(tmp_path):
    """Check that a UTKFace folder holding one file whose name is not UTF-8 is prepared
    (no UnicodeEncodeError at the last step), and skipped.csv names that file with a
    \\xff escape and the reason undecodable_name."""
    from tests.bad_inputs import utkface_source

    source = utkface_source(tmp_path / "utk")
    result = prepare(PreprocessConfig(source="utkface", path=str(source.path), detector="none",
                                      image_size=32), tmp_path / "ds", tmp_path / "cache")
    skipped = pd.read_csv(tmp_path / "ds" / "skipped.csv")
    assert result.n_images > 0 and result.skipped == {"undecodable_name": 1}
    assert skipped["item"].tolist() == list(source.bad)


def test_nothing_usable_raises_no_usable_images_and_writes_nothing(tmp_path):
    """Check that a source whose every image is skipped raises NoUsableImages naming the
    skip reasons, and leaves no dataset folder."""
    from backend.preprocess import NoUsableImages

    csv = make_csv_source(tmp_path / "src", n=10)
    for path in (tmp_path / "src").glob("*.jpg"):
        path.write_bytes(b"")
    with pytest.raises(NoUsableImages, match=r"10 labelled images read, none kept "
                                             r"\(skipped: unreadable: 10\)"):
        prepare(PreprocessConfig(source="csv", path=str(csv), detector="none", image_size=32),
                tmp_path / "ds", tmp_path / "cache")
    assert not (tmp_path / "ds").exists()


def test_faces_too_few_for_the_balancing_fail_saying_so(tmp_path):
    """Check that a source whose faces are all usable but too few per class and gender for
    the balancing to keep any raises NoUsableImages saying so, with the face count."""
    from backend.preprocess import NoUsableImages

    csv = make_csv_source(tmp_path / "src", n=12, size=32)
    with pytest.raises(NoUsableImages, match="the 12 usable faces are too few per class"):
        prepare(PreprocessConfig(source="csv", path=str(csv), detector="none", image_size=32),
                tmp_path / "ds", tmp_path / "cache")

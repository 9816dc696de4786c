"""Cached reads and image confinement."""
from __future__ import annotations

import logging

import pytest

from dashboard import data
from storage.artifacts import add_artifact
from storage.datasets import create_dataset, get_or_create_source
from tests.dashboard.seed import open_home, png


def test_image_outside_the_roots_is_refused(agerec_home):
    """Check that a file outside every allowed root gives no bytes."""
    assert data.image_bytes("/etc/hostname", (str(agerec_home),)) is None


def test_image_through_a_link_out_of_home_is_refused(agerec_home, tmp_path):
    """Check that a symlink under home pointing outside it gives no bytes."""
    outside = tmp_path / "secret.png"
    outside.write_bytes(png((0, 0, 0)))
    (agerec_home / "link.png").symlink_to(outside)
    assert data.image_bytes(str(agerec_home / "link.png"), (str(agerec_home),)) is None


def test_image_under_a_root_is_read(agerec_home):
    """Check that a file under an allowed root is read."""
    (agerec_home / "a.png").write_bytes(png((1, 2, 3)))
    assert data.image_bytes(str(agerec_home / "a.png"), (str(agerec_home),)) == png((1, 2, 3))


def test_a_dataset_registered_at_the_root_folder_does_not_widen_the_image_roots(agerec_home,
                                                                                  monkeypatch,
                                                                                  tmp_path):
    """Check that a dataset source registered at '/' (as a launch with path '/' once did)
    leaves the image roots at AGEREC_HOME and the data roots, so /etc/hostname is never
    read, whatever roots a page passes."""
    monkeypatch.setenv("AGEREC_SHARED_DATA", str(tmp_path / "shared"))
    db = open_home(agerec_home)
    source = get_or_create_source(db, "utkface", "/")
    create_dataset(db, source.id, params={}, summary={}, class_scheme={}, n_images=0)
    assert data.image_roots(data.key()) == [str(agerec_home), str(tmp_path / "shared")]
    assert data.image_bytes("/etc/hostname") is None
    assert data.image_bytes("/etc/hostname", ("/",)) is None


def test_images_under_a_configured_data_root_are_read(agerec_home, monkeypatch, tmp_path):
    """Check that AGEREC_DATA_ROOTS lists the folders besides home images come from: a
    photo there is read, one in a sibling folder is not."""
    for name in ("faces", "other"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.png").write_bytes(png((9, 9, 9)))
    monkeypatch.setenv("AGEREC_DATA_ROOTS", str(tmp_path / "faces"))
    assert data.image_bytes(str(tmp_path / "faces" / "a.png")) == png((9, 9, 9))
    assert data.image_bytes(str(tmp_path / "other" / "a.png")) is None


def test_dot_dot_out_of_a_root_is_resolved_before_the_check(agerec_home):
    """Check that a path that climbs out of home with '..' is refused."""
    assert data.image_bytes(str(agerec_home / ".." / ".." / "etc" / "hostname")) is None


@pytest.mark.parametrize("maker", ["truncated_jpeg", "zero_byte", "text_as_jpeg", "pixel_bomb"])
def test_a_bad_image_file_gives_no_bytes_and_is_logged(agerec_home, caplog, maker):
    """Check that a truncated, empty, text or pixel-bomb file under home gives no bytes
    (so st.image never sees it) and a warning naming the file."""
    import tests.bad_inputs as bad

    path = getattr(bad, maker)(agerec_home / f"{maker}.png")
    with caplog.at_level(logging.WARNING, logger="dashboard.data"):
        assert data.image_bytes(str(path)) is None
    assert f"{maker}.png is not a usable image" in caplog.text


def test_each_gallery_is_listed_once(seeded):
    """Check that a folder recorded once per run it explains, and once more by its
    gallery.json, is listed once, with every run it explains."""
    home = seeded["gallery"].parents[1]
    add_artifact(open_home(home), "gradcam", seeded["gallery"] / "gallery.json")
    found = data.galleries(data.key())
    assert [g["folder"] for g in found] == [str(seeded["gallery"]),
                                            str(seeded["ensemble_gallery"])]
    assert sorted(found[0]["runs"]) == seeded["runs"][:2]


def test_a_runs_own_explanation_is_never_its_members(seeded):
    """Check that the ensemble's own galleries hold only its occlusion gallery, and its
    items only its own model's."""
    k, ensemble = data.key(), seeded["runs"][2]
    own = data.own_galleries(k, ensemble)
    assert [g["folder"] for g in own] == [str(seeded["ensemble_gallery"])]
    assert set(data.run_items(k, own[0], ensemble)["model"]) == {f"ensemble#{ensemble}"}


def test_gallery_items_have_absolute_overlay_paths(seeded):
    """Check that gallery overlay paths are made absolute under the gallery folder."""
    items = data.gallery(data.key(), str(seeded["gallery"]))["items"]
    assert items["pred_overlay_path"].map(lambda p: p.startswith(str(seeded["gallery"]))).all()


def test_history_of_a_run_without_files_is_empty(agerec_home):
    """Check that a run with no history.json has an empty history."""
    from tests.dashboard.seed import seed_home

    ids = seed_home(agerec_home, n_runs=4, gallery=False, jobs=False)
    assert data.history(data.key(), ids["runs"][3]) == []

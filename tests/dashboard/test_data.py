"""Cached reads and image confinement."""
from __future__ import annotations

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


def test_dataset_sources_are_image_roots(agerec_home, tmp_path):
    """Check that a registered dataset's source folder is an allowed image root."""
    db = open_home(agerec_home)
    source = get_or_create_source(db, "utkface", tmp_path / "faces")
    create_dataset(db, source.id, params={}, summary={}, class_scheme={}, n_images=0)
    assert str(tmp_path / "faces") in data.image_roots(data.key())


def test_galleries_accept_a_path_to_gallery_json(seeded):
    """Check that an artifact naming gallery.json itself is read as its folder."""
    home = seeded["gallery"].parents[1]
    add_artifact(open_home(home), "gradcam", seeded["gallery"] / "gallery.json")
    folders = [g["folder"] for g in data.galleries(data.key())]
    assert set(folders) == {str(seeded["gallery"])}


def test_gallery_items_have_absolute_overlay_paths(seeded):
    """Check that gallery overlay paths are made absolute under the gallery folder."""
    items = data.gallery(data.key(), str(seeded["gallery"]))["items"]
    assert items["pred_overlay_path"].map(lambda p: p.startswith(str(seeded["gallery"]))).all()


def test_history_of_a_run_without_files_is_empty(agerec_home):
    """Check that a run with no history.json has an empty history."""
    from tests.dashboard.seed import seed_home

    ids = seed_home(agerec_home, n_runs=4, gallery=False, jobs=False)
    assert data.history(data.key(), ids["runs"][3]) == []

"""Tests for backend.data.labelled_images: printable names and root confinement."""
from __future__ import annotations

import os

import pytest

from backend.data.labelled_images import inside_root, printable, undecodable


def test_printable_escapes_the_bytes_of_a_name_that_is_not_utf8():
    """Check that a surrogate-escaped byte becomes a \\xNN escape and text is unchanged."""
    assert printable(os.fsdecode(b"caf\xe9.jpg")) == "caf\\xe9.jpg"
    assert printable("café.jpg") == "café.jpg"


def test_undecodable_only_flags_names_that_are_not_utf8():
    """Check that a UTF-8 name is fine and a non-UTF-8 one gives an undecodable_name skip."""
    assert undecodable("café.jpg") is None
    assert undecodable(os.fsdecode(b"\xff.jpg")).reason == "undecodable_name"


@pytest.mark.parametrize("path,inside", [("/data/a/b.jpg", True), ("/data/a/../a/b.jpg", True),
                                         ("/data/a/../b.jpg", False), ("/etc/hostname", False),
                                         ("/data/ab/c.jpg", False)])
def test_inside_root_resolves_dot_dot_before_comparing(path, inside):
    """Check that '..' is resolved and a sibling folder sharing a prefix is outside."""
    assert inside_root(path, "/data/a") is inside

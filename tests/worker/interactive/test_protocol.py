"""Tests of worker/interactive/protocol.py: framing and the private socket folder."""
from __future__ import annotations

import os
import socket
import struct

import pytest

from storage.settings import Settings
from worker.interactive import protocol


def test_a_message_round_trips_with_its_blobs():
    """Check that a header and two blobs arrive as sent."""
    a, b = socket.socketpair()
    with a, b:
        protocol.send(a, {"op": "try", "names": ["x.jpg"]}, [b"\xff\xd8photo", b""])
        header, blobs = protocol.receive(b)
    assert header == {"op": "try", "names": ["x.jpg"]} and blobs == [b"\xff\xd8photo", b""]


def test_a_message_cut_short_is_a_protocol_error():
    """Check that a connection closed in the middle of a message is reported as such."""
    a, b = socket.socketpair()
    with b:
        a.sendall(struct.pack(">I", 100) + b'{"op":')
        a.close()
        with pytest.raises(protocol.ProtocolError, match="closed"):
            protocol.receive(b)


def test_an_oversized_header_is_refused_before_it_is_read():
    """Check that a header claiming more than MAX_HEADER_BYTES is refused at once."""
    a, b = socket.socketpair()
    with a, b:
        a.sendall(struct.pack(">I", protocol.MAX_HEADER_BYTES + 1))
        with pytest.raises(protocol.ProtocolError, match="header"):
            protocol.receive(b)


def test_the_socket_folder_is_private_and_outside_home(tmp_path):
    """Check that each home gets its own 0700 folder, outside that home."""
    first = Settings.from_env({"AGEREC_HOME": str(tmp_path / "a")})
    second = Settings.from_env({"AGEREC_HOME": str(tmp_path / "b")})
    folder = protocol.service_dir(first)
    assert folder != protocol.service_dir(second)
    assert folder.stat().st_mode & 0o777 == 0o700 and tmp_path not in folder.parents
    assert len(str(protocol.socket_path(first))) < 100  # Unix socket paths are short


def test_a_socket_folder_others_may_open_is_refused(tmp_path):
    """Check that a folder with group or other permissions is refused, naming it."""
    settings = Settings.from_env({"AGEREC_HOME": str(tmp_path / "c")})
    folder = protocol.service_dir(settings)
    os.chmod(folder, 0o755)
    try:
        with pytest.raises(protocol.ProtocolError, match="not a private folder"):
            protocol.service_dir(settings)
    finally:
        os.chmod(folder, 0o700)

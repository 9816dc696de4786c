"""How the dashboard and `agerec predict` talk to the try-it service: one request and
one answer per connection on a Unix socket, each a JSON header plus raw byte blobs
(photos in, annotated photos and overlays out). No pickle, no TensorFlow.

The socket lives in a folder of the system's temporary directory that only this user
may open (mode 0700), named by a hash of AGEREC_HOME and the database: never under
AGEREC_HOME, which may be read-only or shared between machines.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import tempfile
from pathlib import Path
from typing import Any

from storage.settings import Settings

MAX_HEADER_BYTES = 1 << 20
MAX_MESSAGE_BYTES = 256 << 20  # a few large photos at once; more is refused
_LENGTH = struct.Struct(">I")


class ProtocolError(RuntimeError):
    """A message that breaks the protocol (too large, cut short, not JSON)."""


def service_dir(settings: Settings) -> Path:
    """This deployment's private folder for the socket and lock, created 0700."""
    key = hashlib.sha256(f"{settings.home}\n{settings.database_url}".encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"agerec-try-{os.getuid()}-{key}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
        raise ProtocolError(f"{folder} is not a private folder of this user (owner uid "
                            f"{folder.stat().st_uid}, mode {oct(folder.stat().st_mode & 0o777)}); "
                            "remove it and try again")
    return folder


def socket_path(settings: Settings) -> Path:
    return service_dir(settings) / "try.sock"


def lock_path(settings: Settings) -> Path:
    """The service's lock file: held while it serves, holding its pid."""
    return service_dir(settings) / "try.lock"


def send(sock: socket.socket, header: dict[str, Any], blobs: list[bytes] = ()) -> None:
    """One message: the header (with each blob's length added) and the blobs."""
    head = json.dumps({**header, "blob_sizes": [len(b) for b in blobs]}).encode()
    if len(head) > MAX_HEADER_BYTES or sum(map(len, blobs)) > MAX_MESSAGE_BYTES:
        raise ProtocolError("message too large for the try-it service "
                            f"(at most {MAX_MESSAGE_BYTES >> 20} MB of photos at once)")
    sock.sendall(_LENGTH.pack(len(head)) + head)
    for blob in blobs:
        sock.sendall(blob)


def receive(sock: socket.socket) -> tuple[dict[str, Any], list[bytes]]:
    """One message as (header, blobs)."""
    (size,) = _LENGTH.unpack(_exactly(sock, _LENGTH.size))
    if size > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {size} bytes is larger than {MAX_HEADER_BYTES}")
    try:
        header = json.loads(_exactly(sock, size))
        sizes = [int(n) for n in header.pop("blob_sizes", [])]
    except (ValueError, TypeError, AttributeError) as exc:
        raise ProtocolError(f"unreadable header: {exc}") from None
    if any(n < 0 for n in sizes) or sum(sizes) > MAX_MESSAGE_BYTES:
        raise ProtocolError("message too large")
    return header, [_exactly(sock, n) for n in sizes]


def _exactly(sock: socket.socket, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ProtocolError(f"connection closed {left} bytes before the end of a message")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)

"""Read a PyTorch state dict (`torch.save` of names -> tensors) as numpy arrays,
without PyTorch and without running any code from the file.

A `.pth` file is a pickle, and unpickling can call any function the file names. So
every pickle in it goes through `_RestrictedUnpickler`, which resolves only the
globals a tensor checkpoint needs (an OrderedDict, the tensor rebuild function and
the storage types) and refuses everything else; and when the caller knows the
file's sha256, the whole file is checked against it before anything is unpickled.
"""
from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": "f4", "DoubleStorage": "f8", "HalfStorage": "f2", "LongStorage": "i8",
    "IntStorage": "i4", "ShortStorage": "i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "b1",
}


@dataclass(frozen=True)
class _StorageType:
    name: str


class _Storage:
    def __init__(self, dtype: np.dtype, numel: int):
        self.dtype, self.numel, self.data = dtype, numel, None


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage
    offset: int
    shape: tuple
    stride: tuple

    def to_numpy(self, where: str) -> np.ndarray:
        data = self.storage.data
        if data is None:
            raise ValueError(f"{where}: tensor storage was never read")
        if any(s < 0 for s in self.shape + self.stride) or self.offset < 0:
            raise ValueError(f"{where}: negative size, stride or offset")
        if 0 not in self.shape:
            last = self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.stride))
            if last >= data.size:
                raise ValueError(f"{where}: tensor runs past its storage")
        return np.lib.stride_tricks.as_strided(
            data[self.offset:], shape=self.shape,
            strides=[s * data.itemsize for s in self.stride]).copy()


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    return _TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


def _no_storage(pid: Any) -> Any:
    raise pickle.UnpicklingError(f"unexpected persistent id {pid!r} outside the tensor data")


class _RestrictedUnpickler(pickle.Unpickler):
    """Rebuilds a state dict of tensors and nothing else (no code from the file runs)."""

    def __init__(self, file, where: str, storage_for: Callable[[Any], Any] = _no_storage):
        super().__init__(file)
        self._where, self._storage_for = where, storage_for

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        raise pickle.UnpicklingError(
            f"{self._where}: refusing to load {module}.{name} (only tensors and dicts are read)")

    def persistent_load(self, pid):
        return self._storage_for(pid)


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 of a whole file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_torch_state_dict(path: str | os.PathLike, *, sha256: str | None = None
                          ) -> "collections.OrderedDict[str, np.ndarray]":
    """Read a PyTorch state dict (legacy or zip `torch.save` format) as numpy arrays.

    sha256: the file's expected full sha256; when given, a file that differs is
        refused before any byte of it is unpickled.
    Only OrderedDicts, tensors and their storages are unpickled.
    """
    path = Path(path)
    where = str(path)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {where}")
    if sha256 is not None:
        actual = file_sha256(path)
        if actual != sha256.lower():
            raise ValueError(f"{where} is damaged or not the expected file: its sha256 is "
                             f"{actual}, expected {sha256.lower()}")
    if zipfile.is_zipfile(path):
        obj = _read_zip(path, where)
    else:
        with open(path, "rb") as f:
            obj = _read_legacy(f, where)
    return _as_state_dict(obj, where)


def _storage_dtype(stype: Any, where: str, little_endian: bool = True) -> np.dtype:
    if not isinstance(stype, _StorageType):
        raise ValueError(f"{where}: unsupported storage type {stype!r}")
    return np.dtype(("<" if little_endian else ">") + _STORAGE_DTYPES[stype.name])


def _as_state_dict(obj: Any, where: str) -> "collections.OrderedDict[str, np.ndarray]":
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not all(isinstance(v, _TensorRef) for v in obj.values()):
        raise ValueError(f"{where}: expected a state dict (names -> tensors)")
    return collections.OrderedDict((str(k), v.to_numpy(f"{where}[{k}]")) for k, v in obj.items())


def _read_legacy(f, where: str):
    # torch.save before 1.6: magic, protocol, sys_info, the pickled object, the
    # list of storage keys, then each storage as int64 numel + raw bytes. Every
    # pickle, the small header ones included, goes through the restricted unpickler.
    magic = _RestrictedUnpickler(f, where).load()
    if magic != _LEGACY_MAGIC:
        raise ValueError(f"{where}: not a PyTorch file (bad magic number)")
    protocol = _RestrictedUnpickler(f, where).load()
    if protocol != 1001:
        raise ValueError(f"{where}: unsupported PyTorch protocol version {protocol!r}")
    sys_info = _RestrictedUnpickler(f, where).load()
    little = bool(sys_info.get("little_endian", True)) if isinstance(sys_info, dict) else True
    storages: dict[str, _Storage] = {}

    def storage_for(pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"):
            raise ValueError(f"{where}: unsupported persistent id {pid!r}")
        _, stype, key, _location, numel, view = pid
        if view is not None:
            raise ValueError(f"{where}: storage views are not supported")
        if key not in storages:
            storages[key] = _Storage(_storage_dtype(stype, where, little), int(numel))
        return storages[key]

    obj = _RestrictedUnpickler(f, where, storage_for).load()
    keys = _RestrictedUnpickler(f, where).load()
    if not isinstance(keys, list) or any(key not in storages for key in keys):
        raise ValueError(f"{where}: the storage keys do not match the tensors")
    for key in keys:
        storage = storages[key]
        (numel,) = struct.unpack("<q" if little else ">q", f.read(8))
        if numel != storage.numel:
            raise ValueError(f"{where}: storage {key} holds {numel} values, expected "
                             f"{storage.numel}")
        raw = f.read(numel * storage.dtype.itemsize)
        if len(raw) != numel * storage.dtype.itemsize:
            raise ValueError(f"{where}: file is truncated")
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    return obj


def _read_zip(path: Path, where: str):
    # torch.save since 1.6: a zip with <root>/data.pkl and <root>/data/<key>.
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("data.pkl")]
        if len(pkl) != 1:
            raise ValueError(f"{where}: no single data.pkl in the archive")
        root = pkl[0][: -len("data.pkl")]
        storages: dict[str, _Storage] = {}

        def storage_for(pid):
            if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
                raise ValueError(f"{where}: unsupported persistent id {pid!r}")
            _, stype, key, _location, numel = pid
            if key not in storages:
                s = _Storage(_storage_dtype(stype, where), int(numel))
                s.data = np.frombuffer(zf.read(f"{root}data/{key}"), dtype=s.dtype)
                storages[key] = s
            return storages[key]

        return _RestrictedUnpickler(io.BytesIO(zf.read(pkl[0])), where, storage_for).load()

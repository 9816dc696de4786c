"""The numpy-only PyTorch checkpoint reader: both torch.save formats, only tensors
unpickled (no code from the file runs), and the full-file sha256 check."""
from __future__ import annotations

import collections
import os
import pickle
import struct
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from backend.models import torch_checkpoint as C


def _write_fake_pth(path, tensors, *, legacy: bool, evil: bool = False) -> None:
    """Write `tensors` the way torch.save does (legacy or zip format), without torch.

    Two tensors share one storage (the second at an offset, transposed) to
    exercise offsets and strides. `evil` adds a global that must be refused.
    """
    torch_mod, utils_mod = types.ModuleType("torch"), types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args):
        raise AssertionError("never called")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    torch_mod.FloatStorage, utils_mod._rebuild_tensor_v2 = FloatStorage, _rebuild_tensor_v2

    flat = np.concatenate([t.ravel() for t in tensors.values()]).astype("<f4")

    class Storage:
        pass

    storage = Storage()

    class Tensor:
        def __init__(self, offset, shape, stride):
            self.args = (storage, offset, shape, stride, False, collections.OrderedDict())

        def __reduce__(self):
            return _rebuild_tensor_v2, self.args

    state, offset = collections.OrderedDict(), 0
    for name, t in tensors.items():
        strides = tuple(int(np.prod(t.shape[i + 1:])) for i in range(t.ndim))
        state[name] = Tensor(offset, t.shape, strides)
        offset += t.size
    if evil:
        state["evil"] = os.system  # pickled as a global; loading must refuse it

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if obj is storage:
                base = ("storage", FloatStorage, "0", "cpu", int(flat.size))
                return base + (None,) if legacy else base
            return None

    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch_mod, utils_mod
    try:
        import io
        buf = io.BytesIO()
        Pickler(buf, protocol=2).dump(state)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    if legacy:
        with open(path, "wb") as f:
            for obj in (C._LEGACY_MAGIC, 1001, {"protocol_version": 1001, "little_endian": True}):
                pickle.dump(obj, f, protocol=2)
            f.write(buf.getvalue())
            pickle.dump(["0"], f, protocol=2)
            f.write(struct.pack("<q", flat.size) + flat.tobytes())
    else:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("archive/data.pkl", buf.getvalue())
            zf.writestr("archive/data/0", flat.tobytes())


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "zip"])
def test_reader_rebuilds_tensors_in_both_torch_formats(tmp_path, legacy):
    tensors = {"a.weight": np.arange(24, dtype=np.float32).reshape(2, 3, 2, 2),
               "b.bias": np.array([1.5, -2.0, 3.25], np.float32),
               "c.scalar": np.array(7.0, np.float32)}
    path = tmp_path / "fake.pth"
    _write_fake_pth(path, tensors, legacy=legacy)
    assert zipfile.is_zipfile(path) is not legacy
    state = C.load_torch_state_dict(path)
    assert list(state) == list(tensors)
    for name, t in tensors.items():
        assert state[name].dtype == np.float32 and state[name].shape == t.shape
        np.testing.assert_array_equal(state[name], t)


@pytest.mark.parametrize("legacy", [True, False], ids=["legacy", "zip"])
def test_reader_refuses_anything_but_tensors(tmp_path, legacy):
    path = tmp_path / "evil.pth"
    _write_fake_pth(path, {"a": np.zeros(2, np.float32)}, legacy=legacy, evil=True)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        C.load_torch_state_dict(path)


def test_reader_rejects_truncated_and_foreign_files(tmp_path):
    path = tmp_path / "t.pth"
    _write_fake_pth(path, {"a": np.zeros(64, np.float32)}, legacy=True)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ValueError, match="truncated"):
        C.load_torch_state_dict(path)
    other = tmp_path / "other.pth"
    other.write_bytes(pickle.dumps({"not": "torch"}, protocol=2))
    with pytest.raises(ValueError, match="magic"):
        C.load_torch_state_dict(other)


class _TouchOnLoad:
    """Unpickling this creates `path`: proof that code from the file ran."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return Path.touch, (self.path,)


def test_reader_runs_no_code_from_a_legacy_header(tmp_path):
    """Check that a global in the legacy format's header pickles (where the magic number
    goes) is refused, and the function it names never runs."""
    proof = tmp_path / "code-ran"
    path = tmp_path / "header.pth"
    path.write_bytes(pickle.dumps(_TouchOnLoad(proof), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        C.load_torch_state_dict(path)
    assert not proof.exists()


def test_reader_refuses_a_file_whose_sha256_differs_before_reading_it(tmp_path):
    """Check that with an expected sha256 a different file is refused, naming both
    digests, before any of it is unpickled."""
    proof = tmp_path / "code-ran"
    path = tmp_path / "other.pth"
    path.write_bytes(pickle.dumps(_TouchOnLoad(proof), protocol=2))
    with pytest.raises(ValueError, match="sha256 is [0-9a-f]{64}, expected 0{64}"):
        C.load_torch_state_dict(path, sha256="0" * 64)
    assert not proof.exists()


def test_reader_accepts_the_file_with_its_sha256(tmp_path):
    """Check that the right full sha256 lets the file be read."""
    path = tmp_path / "fake.pth"
    _write_fake_pth(path, {"a": np.arange(3, dtype=np.float32)}, legacy=False)
    state = C.load_torch_state_dict(path, sha256=C.file_sha256(path).upper())
    np.testing.assert_array_equal(state["a"], [0, 1, 2])

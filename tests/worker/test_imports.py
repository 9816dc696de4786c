"""Every worker module imports on its own, at top level, in a fresh interpreter: no
circle hidden by function-local imports, no service needed at import time."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODULES = sorted(".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
                 for p in (REPO / "worker").rglob("*.py"))


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone_in_a_fresh_interpreter(module, tmp_path):
    """Check that importing the module first, with no broker configured, succeeds."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGEREC_")}
    env.update(AGEREC_HOME=str(tmp_path), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", f"import {module}"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr

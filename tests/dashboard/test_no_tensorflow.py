"""The dashboard process never imports TensorFlow."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
import json, sys
from pathlib import Path
from streamlit.testing.v1 import AppTest
from tests.dashboard.seed import seed_home
seed_home(Path(sys.argv[1]))
for page in ["app.py", "views/launch.py", "views/jobs.py", "views/results.py",
             "views/compare.py", "views/gallery.py", "views/present.py", "views/try_it.py"]:
    at = AppTest.from_file("dashboard/" + page, default_timeout=300).run()
    assert not at.exception, (page, [e.value for e in at.exception])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))))
"""


@pytest.mark.slow
def test_no_page_imports_tensorflow(tmp_path):
    """Check that running every page leaves tensorflow and keras out of sys.modules."""
    env = {**os.environ, "AGEREC_HOME": str(tmp_path), "AGEREC_DASHBOARD_DISPATCH": "0"}
    env.pop("AGEREC_DATABASE_URL", None)
    env.pop("AGEREC_BROKER_URL", None)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []

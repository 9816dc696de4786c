"""The layer rules of docs/architecture.md, checked on every module's imports."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

FORBIDDEN = {
    "backend": {"storage", "worker", "dashboard", "celery", "streamlit", "sqlalchemy"},
    "storage": {"backend", "worker", "dashboard", "tensorflow", "keras", "celery", "streamlit"},
    "dashboard": {"tensorflow", "keras", "tf_keras_vis", "celery"},
}


def imported_roots(path: Path) -> set[str]:
    """Top-level package names imported anywhere in a module (lazy imports included)."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_its_import_rules(package):
    """Check that no module of a layer imports a package its layer may not import."""
    offenders = {}
    for path in sorted((REPO / package).rglob("*.py")):
        bad = imported_roots(path) & FORBIDDEN[package]
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert offenders == {}

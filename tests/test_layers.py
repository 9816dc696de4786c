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


PROJECT = ("backend", "storage", "worker", "dashboard", "bench")


def module_name(path: Path) -> str:
    """backend/data/faces.py -> backend.data.faces; a package's __init__ is the package."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(name: str, path: Path, modules: set[str]) -> set[str]:
    """The project modules one module imports anywhere (lazy imports included): a circle
    hidden inside a function is still a circle."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[:len(package) - node.level + 1]
                base = ".".join(package + ([node.module] if node.module else []))
            for alias in node.names:
                # `from pkg import mod` imports the submodule; `from mod import name` the module.
                target = f"{base}.{alias.name}"
                if target in modules or base in modules:
                    found.add(target if target in modules else base)
    return found - {name}


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def project_graph() -> dict[str, set[str]]:
    paths = {module_name(p): p for package in PROJECT for p in (REPO / package).rglob("*.py")}
    return {name: project_imports(name, path, set(paths)) for name, path in paths.items()}


def test_import_cycle_finder_finds_a_circle():
    """Check that the cycle finder reports a loop of three modules and nothing else."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_no_module_imports_itself_in_a_circle():
    """Check that no import circle joins project modules, lazy imports included."""
    assert import_cycles(project_graph()) == []


def imported_modules(path: Path) -> set[str]:
    """Full names of the modules a file imports anywhere (lazy imports included)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", ["backend", "storage"])
def test_layer_tests_use_no_other_layers_helpers(package):
    """Check that a lower layer's tests import neither the layers it may not import nor
    another layer's test helpers (tests.worker...), only its own and the shared ones."""
    others = {f"tests.{p}" for p in ("backend", "storage", "worker", "dashboard", "bench")}
    others.discard(f"tests.{package}")
    offenders = {}
    for path in sorted((REPO / "tests" / package).rglob("*.py")):
        modules = imported_modules(path)
        bad = {m for m in modules if m.split(".")[0] in FORBIDDEN[package]
               or any(m == o or m.startswith(o + ".") for o in others)}
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert offenders == {}


def test_agerec_variables_are_read_only_by_settings():
    """Check that no product module reads an AGEREC_* variable from the environment
    itself: storage/settings.py parses every one of them."""
    offenders = []
    for package in ("backend", "storage", "worker", "dashboard"):
        for path in sorted((REPO / package).rglob("*.py")):
            if path == REPO / "storage" / "settings.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if (isinstance(node, ast.Call) and ast.unparse(node.func).endswith(
                        ("environ.get", "getenv", "environ.setdefault"))
                        and node.args and isinstance(node.args[0], ast.Constant)
                        and str(node.args[0].value).startswith("AGEREC_")):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
                elif (isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("environ")
                      and isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Constant)
                      and str(node.slice.value).startswith("AGEREC_")):
                    offenders.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert offenders == []


# The worker modules the dashboard may use (docs/architecture.md's layer table).
DASHBOARD_REACHES = {"worker.job_control", "worker.jobspecs", "worker.interactive.client",
                     "worker.context"}


def test_dashboard_reaches_the_worker_only_through_its_named_modules():
    """Check that the dashboard imports no worker module beyond job submission, the job
    specs, the try-it client and the app context."""
    graph = project_graph()
    used = {m for name, imports in graph.items() if name.startswith("dashboard")
            for m in imports if m.startswith("worker")}
    assert used - DASHBOARD_REACHES == set()

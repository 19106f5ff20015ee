"""The layout and the import rules: who may import whom, and that our packages are ours."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("schema", "sync", "server", "reports_site")
# The one allowed crossing from server into sync: the tablet CLI group, mounted on ``laogan``.
ALLOWED = {("server.cli", "sync.cli")}


def _modules(package: str) -> list[tuple[str, Path]]:
    root = REPO / package
    out = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(REPO).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append((".".join(parts), path))
    return out


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_package_resolves_to_this_repo(package: str) -> None:
    mod = importlib.import_module(package)
    assert mod.__file__ is not None
    assert Path(mod.__file__).resolve().parent == REPO / package


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for name, path in _modules(package):
        for imp in _imports(path):
            top = imp.split(".")[0]
            if top in forbidden and (name, imp) not in ALLOWED:
                bad.append(f"{name} imports {imp}")
    return bad


def test_schema_imports_nothing_of_ours() -> None:
    assert _violations("schema", ("sync", "server", "reports_site")) == []


def test_sync_never_imports_server_or_litestar() -> None:
    assert _violations("sync", ("server", "reports_site", "litestar", "uvicorn")) == []


def test_server_imports_only_the_sync_cli() -> None:
    assert _violations("server", ("sync",)) == []
    assert ("server.cli", "sync.cli") in {(n, i) for n, p in _modules("server") for i in _imports(p)}


def test_reports_site_never_imports_sync_or_litestar() -> None:
    assert _violations("reports_site", ("sync", "litestar")) == []


def test_engine_has_no_framework_types() -> None:
    for name in ("server/reconcile.py", "server/ledger.py", "server/uploads.py", "server/pull.py"):
        assert not any(i.startswith("litestar") for i in _imports(REPO / name)), name


def test_only_settings_reads_the_environment() -> None:
    readers = []
    for package in PACKAGES:
        for name, path in _modules(package):
            if "os.environ" in path.read_text(encoding="utf-8") or "getenv" in path.read_text(encoding="utf-8"):
                readers.append(name)
    assert readers == ["server.settings"]


def test_files_stay_small() -> None:
    big = [str(p.relative_to(REPO)) for pkg in PACKAGES for _, p in _modules(pkg)
           if len(p.read_text(encoding="utf-8").splitlines()) > 450]
    assert big == []


def test_top_level_layout() -> None:
    for entry in ("schema", "sync", "server", "reports_site", "tests", "docs", "pyproject.toml", "mkdocs.yml",
                  "README.md", "Makefile", ".ci/run", "constraints.txt"):
        assert (REPO / entry).exists(), entry

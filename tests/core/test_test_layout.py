"""The shape of the tests: helpers live in tests/support, fixtures in conftest.py files, and no
module under tests/ other than a conftest.py imports a conftest (a test that did would load that
conftest a second way and reach fixtures and helpers around pytest's own discovery). Read from the
source with ``ast``, so every form of import counts: ``import tests.x.conftest``, ``from tests.x
import conftest``, ``from tests.x.conftest import name`` and relative ones, at any depth."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def conftest_imports(source: str, package: str = "tests") -> list[str]:
    """The conftest modules ``source`` imports, as written (relative ones resolved against
    ``package``, the dotted package of the file), each with its line number."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            modules = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        found += [f"line {node.lineno}: {module}" for module in modules
                  if module.rpartition(".")[2] == "conftest"]
    return found


def test_the_scan_sees_every_way_of_importing_a_conftest():
    assert conftest_imports("from tests.conftest import Stack")
    assert conftest_imports("from tests.bots.conftest import (\n    Scene,\n)")
    assert conftest_imports("import tests.webhooks.conftest")
    assert conftest_imports("import tests.webhooks.conftest as hooks")
    assert conftest_imports("from tests.dashboard import conftest")
    assert conftest_imports("def f():\n    from tests.conftest import TEST_KEY")
    assert conftest_imports("from .conftest import Customer", package="tests.connections")
    assert conftest_imports("from .. import conftest", package="tests.connections")
    assert conftest_imports("from . import conftest", package="tests.connections")
    assert not conftest_imports("from tests.support.stack import Stack")
    assert not conftest_imports("import tests.support.conftest_like")
    assert not conftest_imports("from tests.support import conftest_helpers")


def test_no_test_imports_a_conftest():
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        if path.name == "conftest.py":
            continue
        relative = path.relative_to(TESTS.parent)
        package = ".".join(relative.parent.parts)
        offenders += [f"{relative} {found}" for found in conftest_imports(path.read_text(), package)]
    assert not offenders, ("import helpers from tests/support instead (a conftest holds fixtures, "
                           "which pytest finds by itself):\n" + "\n".join(offenders))


def test_no_support_module_imports_a_conftest():
    support = TESTS / "support"
    assert sorted(support.glob("*.py")), "tests/support has moved"
    offenders = []
    for path in sorted(support.rglob("*.py")):
        package = ".".join(path.relative_to(TESTS.parent).parent.parts)
        offenders += [f"{path.name} {found}" for found in conftest_imports(path.read_text(), package)]
    assert not offenders, "tests/support must not depend on a conftest:\n" + "\n".join(offenders)


def test_module_imports(source: str) -> list[str]:
    """The test modules (``test_*.py``) ``source`` imports, as written, each with its line number."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or "", *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        found += [f"line {node.lineno}: {module}" for module in modules
                  if module.startswith("tests.") and module.rpartition(".")[2].startswith("test_")]
    return sorted(set(found))


test_module_imports.__test__ = False  # a helper named like a test: not one


def test_no_test_module_imports_another():
    """A helper two test modules share lives in tests/support, not in one of them."""
    assert test_module_imports("from tests.bots.test_token_server import check")
    assert test_module_imports("import tests.core.test_urls")
    assert not test_module_imports("from tests.support.bot_checks import check")
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        relative = path.relative_to(TESTS.parent)
        offenders += [f"{relative} {found}" for found in test_module_imports(path.read_text())]
    assert not offenders, "move the helper to tests/support:\n" + "\n".join(offenders)

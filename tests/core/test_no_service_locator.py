"""No service locator: the Runtime is built and taken apart only where a process starts (the
composition root: runtime.py, app.py, worker.py, cli.py, devstack.py). Anywhere else, a function
that takes a ``runtime`` parameter (or one annotated ``Runtime``), or a module that imports
``obfbroker.runtime``, fails here, named. Read from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "obfbroker"
COMPOSITION_ROOT = frozenset({"runtime.py", "app.py", "worker.py", "cli.py", "devstack.py"})


def _annotation_names(node: ast.expr | None) -> set[str]:
    return set() if node is None else {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def locator_uses(source: str) -> list[str]:
    """Each function taking the runtime, and each import of the runtime module, in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            for arg in arguments:
                if arg.arg == "runtime" or _annotation_names(arg.annotation) & {"Runtime", "RuntimeDep"}:
                    found.append(f"{getattr(node, 'name', 'lambda')}({arg.arg})")
        elif isinstance(node, ast.ImportFrom):
            if node.module == "obfbroker.runtime" or (node.module == "obfbroker" and any(
                    alias.name == "runtime" for alias in node.names)):
                found.append("import of obfbroker.runtime")
        elif isinstance(node, ast.Import):
            found += ["import of obfbroker.runtime" for alias in node.names
                      if alias.name == "obfbroker.runtime"]
    return found


def test_only_the_composition_root_takes_the_runtime():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if len(relative.parts) == 1 and relative.name in COMPOSITION_ROOT:
            continue
        if uses := locator_uses(path.read_text()):
            offenders[str(relative)] = uses
    assert offenders == {}


def test_the_scan_sees_each_way_of_taking_the_runtime():
    assert locator_uses("def f(session, runtime): ...") == ["f(runtime)"]
    assert locator_uses("async def f(rt: Runtime): ...") == ["f(rt)"]
    assert locator_uses("async def f(rt: 'Runtime'): ...") == ["f(rt)"]
    assert locator_uses("async def f(*, x: RuntimeDep): ...") == ["f(x)"]
    assert locator_uses("from obfbroker.runtime import Runtime") == ["import of obfbroker.runtime"]
    assert locator_uses("from obfbroker import runtime") == ["import of obfbroker.runtime"]
    assert locator_uses("import obfbroker.runtime") == ["import of obfbroker.runtime"]
    assert locator_uses("def f(session, kit: ConnectionKit): ...") == []

"""The shape of the code: no import cycles in ``src/obfbroker`` (imports under TYPE_CHECKING and
inside functions count), and no module over 400 lines. Read from the source with ``ast``, so a
new cycle fails here, named, before it makes a module impossible to change alone."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
MAX_LINES = 400


def modules() -> dict[str, Path]:
    found = {}
    for path in (SRC / "obfbroker").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules ``name`` imports. ``from package import submodule`` is an import of the
    submodule (not of the package's ``__init__``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                target = f"{base}.{alias.name}"
                found.add(target if target in known else base)
    return {m for m in found if m in known and m != name}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_there_is_no_import_cycle():
    known = modules()
    graph = {name: imports_of(name, path, known) for name, path in known.items()}
    assert sum(len(targets) for targets in graph.values()) > 100, "the scan found the imports"
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_is_over_400_lines():
    long = {str(path.relative_to(SRC)): n for path in modules().values()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


# -- folders: each top-level folder or module of the package is one node -------------------------

def folder_of(module: str) -> str:
    """``obfbroker.connections.service`` -> ``connections``; ``obfbroker.runtime`` -> ``runtime``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def folder_graph() -> dict[str, set[str]]:
    """Which folders (or top-level modules) import which, the package's own ``__init__`` aside."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        if name == "obfbroker":
            continue
        source = folder_of(name)
        graph.setdefault(source, set())
        graph[source] |= {folder_of(target) for target in imports_of(name, path, known)
                          if target != "obfbroker" and folder_of(target) != source}
    return graph


def test_the_folders_depend_one_way():
    """A folder that imports another is never imported back, through any path: the domains form
    a DAG (drawn in docs/architecture.md)."""
    graph = folder_graph()
    assert {"connections", "bots", "token_links", "flows", "runtime"} <= set(graph)
    assert cycles(graph) == []


def test_the_folder_graph_sees_a_knot_between_folders():
    # Two modules of different folders importing each other's folder make a knot of two folders.
    graph = {"bots": {"connections"}, "connections": {"bots"}, "runtime": {"bots"}}
    assert cycles(graph) == [["bots", "connections"]]
    assert folder_of("obfbroker.connections.service") == "connections"
    assert folder_of("obfbroker.runtime") == "runtime"

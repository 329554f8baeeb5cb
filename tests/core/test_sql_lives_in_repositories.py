"""Every SQL statement is built in a repository: a module outside ``*/repository.py``, ``db/`` and
``migrations/`` (schema changes are SQL by nature) that builds one (SQLAlchemy's ``select``,
``update``, ``delete``, ``insert`` or ``text``, however imported: by name, renamed, from
``sqlalchemy.sql`` or a dialect, or as ``sqlalchemy.<name>`` through the module) fails here,
named. Read from the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "obfbroker"
BUILDERS = frozenset({"select", "update", "delete", "insert", "text"})


def allowed(path: Path) -> bool:
    relative = path.relative_to(PACKAGE)
    return path.name == "repository.py" or relative.parts[0] in ("db", "migrations")


def builders_used(source: str) -> set[str]:
    """The statement builders a module imports or reaches through an imported sqlalchemy module."""
    used: set[str] = set()
    modules: set[str] = set()  # names bound to sqlalchemy or one of its submodules
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            for alias in node.names:
                if alias.name in BUILDERS:
                    used.add(alias.name)
                else:
                    modules.add(alias.asname or alias.name)  # e.g. from sqlalchemy import sql
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sqlalchemy":
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in BUILDERS:
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules:
                used.add(node.attr)
    return used


def test_no_module_outside_the_repositories_builds_sql():
    scanned, offenders = 0, {}
    for path in sorted(PACKAGE.rglob("*.py")):
        scanned += 1
        if allowed(path):
            continue
        if used := builders_used(path.read_text()):
            offenders[str(path.relative_to(PACKAGE))] = sorted(used)
    assert scanned > 100, "the scan found the package"
    assert offenders == {}


def test_the_scan_sees_every_way_of_importing_a_builder():
    assert builders_used("from sqlalchemy import select, func") == {"select"}
    assert builders_used("from sqlalchemy import update as change") == {"update"}
    assert builders_used("from sqlalchemy.dialects.postgresql import insert") == {"insert"}
    assert builders_used("import sqlalchemy as sa\nsa.delete(t)") == {"delete"}
    assert builders_used("import sqlalchemy\nsqlalchemy.sql.text('x')") == {"text"}
    assert builders_used("from sqlalchemy import sql\nsql.expression.select(t)") == {"select"}
    assert builders_used("from sqlalchemy import func, Row\nfunc.count()") == set()


def other_repositories(module: str, source: str) -> set[str]:
    """The repositories of other folders ``module`` (``obfbroker.<folder>...``) imports; ``db``'s
    shared base is everyone's."""
    folder = module.split(".")[1]
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if (len(parts) >= 3 and parts[0] == "obfbroker" and parts[-1] == "repository"
                    and parts[1] not in (folder, "db")):
                found.add(name)
    return found


def test_a_domain_asks_another_through_its_service_never_its_repository():
    offenders = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if len(relative.parts) == 1:
            module = f"obfbroker.{relative.stem}"
        else:
            module = "obfbroker." + ".".join(relative.with_suffix("").parts)
        if found := other_repositories(module, path.read_text()):
            offenders[str(relative)] = sorted(found)
    assert offenders == {}


def test_the_repository_scan_sees_each_way_of_importing_one():
    assert other_repositories("obfbroker.bots.service",
                              "from obfbroker.connections import repository as c") == {
        "obfbroker.connections.repository"}
    assert other_repositories("obfbroker.gauges", "from obfbroker.outbox.repository import backlog") == {
        "obfbroker.outbox.repository"}
    assert other_repositories("obfbroker.bots.service", "import obfbroker.connections.repository") == {
        "obfbroker.connections.repository"}
    assert other_repositories("obfbroker.bots.service", "from obfbroker.bots import repository") == set()
    assert other_repositories("obfbroker.bots.service", "from obfbroker.db import repository") == set()

"""What the packaging tests share: reading the Dockerfile, compose.yaml and .env.example as the
tools do, and fresh virtualenvs with our wheels installed (uv when installed, else pip), built
from a copy so that no build/ or *.egg-info lands in the work tree."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "python"


@dataclass
class Stage:
    """One ``FROM`` of a Dockerfile and its instructions, in order."""

    image: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str | None:
        found = self.all(keyword)
        return found[-1] if found else None


def dockerfile_stages(path: Path = ROOT / "Dockerfile") -> list[Stage]:
    """The Dockerfile's stages: comments dropped, ``\\`` continuations joined."""
    logical, pending = [], ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.strip().partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            image, _, name = rest.partition(" AS ")
            stages.append(Stage(image=image.strip(), name=name.strip() or None))
        else:
            stages[-1].instructions.append((keyword, rest))
    return stages


def exec_form(text: str) -> list[str]:
    """An instruction's JSON (exec) form, e.g. ``["obfbroker"]``."""
    value = json.loads(text)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), text
    return value


def healthcheck_command(rest: str) -> list[str]:
    """The command of a ``HEALTHCHECK [options] CMD [...]`` instruction."""
    _, sep, command = rest.partition("CMD ")
    assert sep, f"HEALTHCHECK without CMD: {rest}"
    return exec_form(command)


def read_env_file(path: Path = ROOT / ".env.example", *, commented: bool = False) -> dict[str, str]:
    """``NAME=value`` lines (with ``commented``, the ``# NAME=value`` ones instead)."""
    pattern = re.compile(r"^#\s*([A-Z][A-Z0-9_]*)=(.*)$" if commented else r"^([A-Z][A-Z0-9_]*)=(.*)$")
    return {m[1]: m[2].strip() for line in path.read_text().splitlines() if (m := pattern.match(line))}


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def compose_variables(text: str) -> set[str]:
    return {m[1] for m in _VARIABLE.finditer(text)}


def interpolate(value: str, values: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?message}`` (an empty or missing
    required value fails, as compose does)."""

    def one(m: re.Match) -> str:
        name, op, arg = m[1], m[2] or "", m[3] or ""
        got = values.get(name)
        empty = got is None or (op.startswith(":") and got == "")
        if op.endswith("?") and empty:
            raise AssertionError(f"compose would refuse: {arg or name}")
        if op.endswith("-") and empty:
            return arg
        return got or ""

    return _VARIABLE.sub(one, value)


def uv_binary() -> str | None:
    try:
        import uv
    except ImportError:
        return None
    return uv.find_uv_bin()


def run(args: list, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=240,
                            **kwargs)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
    return result


def build_wheels(sources: list[Path], out: Path) -> list[Path]:
    """A wheel of each project directory, as ``pip wheel --no-deps`` makes them."""
    uv = uv_binary()
    for source in sources:
        if uv:
            run([uv, "build", "--quiet", "--wheel", "--out-dir", out, source])
        else:
            run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", out, source])
    return sorted(out.glob("*.whl"))


def fresh_venv(path: Path, *requirements: str | Path) -> Path:
    """A new virtualenv (no system site-packages) with ``requirements`` installed; its python.
    Packages come from the installer's cache or the index, as in a fresh checkout."""
    uv = uv_binary()
    python = path / "bin" / "python"
    if uv:
        run([uv, "venv", "--quiet", "--python", sys.executable, path])
        run([uv, "pip", "install", "--quiet", "--python", python, *requirements])
    else:
        run([sys.executable, "-m", "venv", path])
        run([python, "-m", "pip", "install", "--quiet", *requirements])
    return python


def copy_tree(source: Path, target: Path) -> None:
    """``source`` without the files .dockerignore keeps out of a build context."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".venv", "node_modules"))


def venv_with_wheels(projects: list[Path], tmp_path: Path) -> Path:
    """A wheel of each project directory, installed into a new empty virtualenv under
    ``tmp_path`` with their dependencies from the index and nothing else; the virtualenv's
    python. Pass copies (``checkout_copy``), never the work tree: a build writes into its source."""
    wheels = build_wheels(projects, tmp_path / "wheels")
    assert len(wheels) == len(projects), wheels
    return fresh_venv(tmp_path / "venv", *wheels)


def checkout_copy(source: Path, target: Path) -> Path:
    """The files of ``source`` that git tracks or would add (untracked but not ignored), as this
    work tree has them, copied to ``target``: what a clean clone of the next commit holds, without
    anything .gitignore keeps out (.venv, var/, *.egg-info, build/, node_modules)."""
    listed = subprocess.run(["git", "-C", str(source), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard", "--", "."], capture_output=True, text=True, timeout=60)
    if listed.returncode != 0:  # not a git checkout (an unpacked archive): the tree, minus droppings
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(
            ".git", "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".venv", "var", "node_modules"))
        return target
    for name in filter(None, listed.stdout.split("\0")):
        path = source / name
        if path.is_file():  # a tracked file deleted in the work tree is not copied
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / name)
    return target


def stage_env(stage: Stage) -> dict[str, str]:
    """The variables a stage's ``ENV`` instructions set (``NAME=value ...`` or ``NAME value``)."""
    values: dict[str, str] = {}
    for rest in stage.all("ENV"):
        words = shlex.split(rest)
        if words and "=" not in words[0]:
            values[words[0]] = " ".join(words[1:])
            continue
        values.update(word.split("=", 1) for word in words)
    return values

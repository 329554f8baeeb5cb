"""`obfbroker dev` (what `make run` starts) as a real subprocess on free ports, for whole-stack
tests: started in a folder of the test's own (its ./var), read up to the end of its banner,
stopped with Ctrl-C (SIGINT), as a person would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from obfbroker.lifeline import preexec
from tests.support.servers import free_port

BANNER_SECONDS = 120  # first start: migrations, four processes, the demo account
URL = re.compile(r"https?://[^\s'\"()]+")


@dataclass
class DevStack:
    """A running `obfbroker dev`: its ports, its banner (stdout up to step 3) and its process."""

    port: int
    sim_port: int
    example_port: int
    node_port: int
    process: subprocess.Popen
    banner: str = ""

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.sim_port}"

    @property
    def api_key(self) -> str:
        return re.search(r"Demo API key\s+(\S+)", self.banner).group(1)


def read_banner(process: subprocess.Popen, timeout: float = BANNER_SECONDS) -> str:
    """stdout until the banner's last step ("  3." and the command line after it)."""
    lines, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if line.startswith("  3."):
            lines.append(process.stdout.readline())
            return "".join(lines)
    raise AssertionError(f"obfbroker dev printed no banner: {''.join(lines)}")


def banner_urls(banner: str) -> tuple[list[str], list[str]]:
    """The URLs a banner prints, in order, split in two: those to open (printed as places to
    go) and those inside curl commands (request targets, with the bodies they send)."""
    pages: list[str] = []
    commands: list[str] = []
    in_command = False
    for line in banner.splitlines():
        in_command = in_command or line.lstrip().startswith("curl ")
        (commands if in_command else pages).extend(url.rstrip(".,;:") for url in URL.findall(line))
        in_command = in_command and line.rstrip().endswith("\\")
    return list(dict.fromkeys(pages)), list(dict.fromkeys(commands))


def dev_command(stack_ports: tuple[int, int, int, int]) -> list[str]:
    port, sim_port, example_port, node_port = stack_ports
    return [sys.executable, "-m", "obfbroker", "dev", "--port", str(port), "--sim-port", str(sim_port),
            "--example-port", str(example_port), "--node-port", str(node_port)]


def start_dev(folder: Path, *, ports: tuple[int, int, int, int] | None = None,
              env: dict[str, str] | None = None, stderr: Path | None = None) -> DevStack:
    """`obfbroker dev` run from ``folder`` (its data goes to folder/var unless ``env`` says
    otherwise), with no OBFBROKER_* variable of the test's environment but those in ``env``; its
    children's logs go to ``stderr`` (or nowhere). Returns once the banner is printed. The
    process dies with the test's (obfbroker.lifeline): a killed test leaves no stack running."""
    ports = ports or (free_port(), free_port(), free_port(), free_port())
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OBFBROKER_")}
    with (stderr or Path(os.devnull)).open("a") as log:
        process = subprocess.Popen(dev_command(ports), cwd=folder, env={**clean, **(env or {})}, text=True,
                                   stdout=subprocess.PIPE, stderr=log, preexec_fn=preexec())
    stack = DevStack(*ports, process)
    try:
        stack.banner = read_banner(process)
    except BaseException:
        stop_dev(stack)
        raise
    return stack


def stop_dev(stack: DevStack) -> int:
    """Ctrl-C, as a person would; the exit status (SIGKILL after a minute without one)."""
    process = stack.process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()
    return process.returncode


@contextmanager
def running_dev(folder: Path, stderr: Path | None = None,
                env: dict[str, str] | None = None) -> Iterator[DevStack]:
    """``start_dev`` for the length of a block, stopped with Ctrl-C at its end."""
    stack = start_dev(folder, env=env, stderr=stderr)
    try:
        yield stack
    finally:
        stop_dev(stack)

"""The status file: where the obfbroker process of a container answers, for ``obfbroker healthcheck``.

One image runs every process (serve, worker, zoomsim), each on a port chosen at run time, so a
health check that names a port is wrong for all but one of them. Instead, when
``OBFBROKER_STATUS_FILE`` is set (the image sets it), ``serve``, ``worker`` and ``zoomsim`` write
there, once they know their port, which command they are, their pid and the URLs that tell
whether they are alive and ready. ``obfbroker healthcheck`` reads the file and asks that URL:
exit 0 when it answers 200, 1 otherwise (the only two codes a container health check may use),
with one line saying what it asked and what came back.

The file is replaced whole (write, then rename), so a check never reads half of one. A file left
by an earlier run of the same container points at a port nothing answers on yet, so it fails
like a process still starting. ``OBFBROKER_STATUS_FILE`` is a process variable, not a setting:
``zoomsim`` reads no settings, and a failing write never stops a process (it logs a warning and
the check then says the file is missing).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

STATUS_FILE_VARIABLE = "OBFBROKER_STATUS_FILE"

log = logging.getLogger(__name__)


def local_base_url(host: str, port: int) -> str:
    """How a client in the same network namespace reaches a server listening on ``host:port``:
    the loopback address for a wildcard host (0.0.0.0, ::, empty), else the host itself."""
    host = host.strip("[]")
    try:
        address = ipaddress.ip_address(host or "0.0.0.0")  # noqa: S104 (only compared)
    except ValueError:
        address = None  # a name, e.g. localhost
    if address is not None and address.is_unspecified:
        host = "::1" if address.version == 6 else "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


@dataclass(frozen=True)
class Status:
    """What one process wrote: its command and pid, and the URLs that answer 200 while it is
    alive (``live``) and while it can serve requests (``ready``); None where it has no port."""

    command: str
    pid: int
    live: str | None
    ready: str | None

    def to_json(self) -> str:
        return json.dumps({"command": self.command, "pid": self.pid, "live": self.live, "ready": self.ready})

    @classmethod
    def from_json(cls, text: str) -> Status:
        data = json.loads(text)
        return cls(command=str(data["command"]), pid=int(data["pid"]), live=data.get("live"),
                   ready=data.get("ready"))


def announce(command: str, *, base_url: str | None, live: str, ready: str | None = None) -> None:
    """Write this process's status where ``OBFBROKER_STATUS_FILE`` says; nothing when unset.
    ``live`` and ``ready`` are paths under ``base_url`` (``ready`` defaults to ``live``)."""
    target = os.environ.get(STATUS_FILE_VARIABLE)
    if not target:
        return
    status = Status(command=command, pid=os.getpid(),
                    live=f"{base_url}{live}" if base_url else None,
                    ready=f"{base_url}{ready or live}" if base_url else None)
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(status.to_json() + "\n")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as err:
        log.warning(f"cannot write the status file {path} ({err.strerror or err}); "
                    "`obfbroker healthcheck` will report this process as down")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    return True


def check(status_file: str | None, *, ready: bool, timeout: float) -> tuple[bool, str]:
    """Whether the process named in ``status_file`` answers, and one line saying so."""
    if not status_file:
        return False, (f"{STATUS_FILE_VARIABLE} is not set: no obfbroker process here says where it "
                       "listens (the image sets it; serve, worker and zoomsim write the file)")
    try:
        status = Status.from_json(Path(status_file).read_text())
    except (FileNotFoundError, NotADirectoryError):
        return False, (f"no status file at {status_file} yet: serve, worker or zoomsim writes it "
                       "once it has its port (still starting, or it could not write there: see its log)")
    except (OSError, ValueError, KeyError, TypeError) as err:
        return False, f"cannot read the status file {status_file}: {err}"
    who = f"{status.command} (pid {status.pid})"
    if not _running(status.pid):
        return False, f"{who} is not running any more"
    url = status.ready if ready else status.live
    if url is None:
        return True, f"{who} is running (it has no HTTP port to ask)"
    if not url.startswith("http://"):
        return False, f"{who}: the status file names {url!r}, not an http URL"
    # No proxy: an http_proxy in the container's environment must not carry a loopback request.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            code = response.status
    except urllib.error.HTTPError as err:
        return False, f"{who}: {url} answered {err.code}"
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        return False, f"{who}: {url} did not answer ({reason})"
    if code != 200:
        return False, f"{who}: {url} answered {code}"
    return True, f"{who}: {url} answered 200"

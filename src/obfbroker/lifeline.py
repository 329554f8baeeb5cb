"""Nothing we start outlives the process that started it.

Every process obfbroker starts is tied to its parent with Linux's parent-death signal
(``prctl(PR_SET_PDEATHSIG)``): when the parent dies, for whatever reason (SIGKILL and the OOM
killer included, which no handler of the parent's can see), the kernel sends the child SIGTERM
and the child stops the way it always does on SIGTERM, finishing what it has in hand (a refresh
whose rotated token must be stored, a batch of use rows) before it exits. A child whose own
children are tied the same way passes the signal on down: ``obfbroker dev`` → ``serve``'s
supervisor → its processes.

Two ways in:

- ``preexec`` for ``subprocess.Popen(..., preexec_fn=...)``: runs in the child between fork and
  exec (the setting survives exec), so it ties any program we start, ours or not.
- ``tie_to_parent(pid)`` from inside a child started another way (``multiprocessing``'s spawn,
  which ``serve --workers N`` uses through uvicorn's supervisor).

Both close the race where the parent dies before the tie is made: the child compares its parent
with the one it expects and stops at once when they differ.

The signal is tied to the *thread* that started the child, so start children from a thread that
lives as long as they should (every caller here starts them from the main thread). On systems
without ``prctl`` (not Linux) these are no-ops.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PARENT_DEATH_SIGNAL = signal.SIGTERM

_prctl: Callable[..., int] | None = None
if sys.platform.startswith("linux"):
    try:
        _prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # a libc without prctl: nothing to tie with
        _prctl = None


def supported() -> bool:
    return _prctl is not None


def tie_to_parent(parent_pid: int, sig: int = PARENT_DEATH_SIGNAL) -> None:
    """Ask the kernel for ``sig`` when our parent dies; if it already has (we were re-parented
    before we got here), send ``sig`` to ourselves now."""
    if _prctl is None:
        return
    if _prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        os.kill(os.getpid(), sig)


def preexec(sig: int = PARENT_DEATH_SIGNAL) -> Callable[[], None] | None:
    """A ``preexec_fn`` for ``subprocess.Popen`` that ties the child to the calling process (None
    where there is no parent-death signal, so ``Popen`` runs nothing). Combine it with
    ``start_new_session=True`` freely: the session is made before ``preexec_fn`` runs."""
    if _prctl is None:
        return None
    parent = os.getpid()

    def tie() -> None:
        # Between fork and exec: no allocation-heavy work, no locks; ctypes and getppid are fine.
        if _prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0 or os.getppid() != parent:
            os._exit(1)

    return tie

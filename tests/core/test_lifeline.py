"""The parent-death tie (obfbroker.lifeline) closes its race: a child that finds it already has a
different parent than the one that started it stops at once instead of running on unowned."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from obfbroker import lifeline

pytestmark = pytest.mark.skipif(not lifeline.supported(), reason="needs prctl(PR_SET_PDEATHSIG) (Linux)")

CHILD = """
import os, sys
from obfbroker.lifeline import tie_to_parent
tie_to_parent(os.getppid() if sys.argv[1] == "mine" else int(sys.argv[1]))
print("still running", flush=True)
"""


def test_a_child_whose_parent_is_already_gone_stops_with_the_parent_death_signal():
    not_our_parent = 1  # what a child re-parented to init sees
    done = subprocess.run([sys.executable, "-c", CHILD, str(not_our_parent)], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == -signal.SIGTERM, done
    assert "still running" not in done.stdout


def test_a_child_of_the_expected_parent_runs_on():
    done = subprocess.run([sys.executable, "-c", CHILD, "mine"], capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 0, done
    assert "still running" in done.stdout


def test_the_preexec_tie_lets_the_child_exec_and_run():
    tie = lifeline.preexec()
    assert tie is not None
    done = subprocess.run([sys.executable, "-c", "print('exec happened')"], preexec_fn=tie,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and "exec happened" in done.stdout

"""No silent waits: a step that runs over its delay says what it does on stderr; a quick one says nothing."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_step(seconds: float) -> str:
    """stderr (a pipe) of a process running a step of `seconds`, with the delay shortened to 0.2 s."""
    code = ("import time; from devsearch.core import waiting; waiting.DELAY_S = 0.2\n"
            f"with waiting.step('loading the network'):\n    time.sleep({seconds})\n")
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stderr


def test_a_long_step_says_one_line_when_stderr_is_a_pipe():
    assert run_step(1.0) == "devsearch: loading the network ...\n"


def test_a_quick_step_says_nothing():
    assert run_step(0) == ""


def test_a_step_inside_another_lets_the_outer_one_speak():
    code = ("import time; from devsearch.core import waiting; waiting.DELAY_S = 0.2\n"
            "with waiting.step('preparing the model'):\n    with waiting.step('preparing the word vectors'):\n"
            "        time.sleep(1.0)\n")
    stderr = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stderr
    assert stderr == "devsearch: preparing the model ...\n"


def test_a_step_known_to_be_long_speaks_from_its_start():
    code = ("from devsearch.core import waiting\n"
            "with waiting.step('preparing the network, once', at_once=True):\n    pass\n")
    stderr = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stderr
    assert stderr == "devsearch: preparing the network, once ...\n"

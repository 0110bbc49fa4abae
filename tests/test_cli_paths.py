"""A wrong path on any command is one line of error, found before the command imports TensorFlow."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURES
from tests.synthetic import make_dataset
from tests.tiny_library import make_bundle

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("tensorflow", "keras", "gensim")

# (command line, what its error says); {missing} is a path that does not exist, the others exist
BAD_PATHS = [
    (["eval", "{missing}", "--model", "{bundle}"], "dataset {missing} not found"),
    (["eval", "{dataset}", "--model", "{missing}"], "{missing} is not a model bundle"),
    (["eval", "{dataset}", "--model", "{bundle}", "--holdout-labels", "{missing}"], "cannot read the label list {missing}"),
    (["train", "{dataset}", "{missing}", "--out", "{out}"], "dataset {missing} not found"),
    (["train", "{dataset}", "--out", "{out}", "--words", "{missing}"], "word vectors '{missing}' not found"),
    (["train", "{dataset}", "--out", "{out}", "--holdout-labels", "{missing}"], "cannot read the label list {missing}"),
    (["labels", "{missing}"], "{missing}: no such file"),
    (["labels", "{photo}", "--model", "{missing}"], "{missing} is not a model bundle"),
    (["index", "{missing}", "--home", "{home}"], "no such file or directory: {missing}"),
    (["index", "{dataset}", "--home", "{home}", "--model", "{missing}"], "{missing} is not a model bundle"),
    (["query", "dog", "--home", "{home}", "--model", "{missing}"], "{missing} is not a model bundle"),
    (["query", "dog", "--home", "{home}", "--in", "{missing}"], "--in {missing}: no such folder"),
    (["similar", "{missing}", "--home", "{home}"], "no such photo: {missing}"),
    (["words", "similar", "dog", "--words", "{missing}"], "word vectors '{missing}' not found"),
    (["words", "train", "{missing}", "--out", "{out}"], "corpus file not found: {missing}"),
]

# Every case through typer's runner in one fresh process, then the heavy modules it has loaded.
RUN_ALL = """
import json, sys
from typer.testing import CliRunner
from devsearch.cli.app import app
results = [CliRunner().invoke(app, args) for args in json.loads(sys.argv[1])]
print(json.dumps({"results": [[r.exit_code, r.stdout, r.stderr] for r in results],
                  "loaded": [m for m in json.loads(sys.argv[2]) if m in sys.modules]}))
"""


def test_every_wrong_path_is_one_line_before_tensorflow_is_imported(tmp_path):
    paths = {"missing": str(tmp_path / "missing"), "bundle": str(make_bundle(tmp_path / "bundle").path),
             "dataset": str(make_dataset(tmp_path / "dataset", per_label=1, seed=0)), "out": str(tmp_path / "out"),
             "photo": str(FIXTURES / "coffee.jpg"), "home": str(tmp_path / "home")}
    commands = [[arg.format(**paths) for arg in args] for args, _ in BAD_PATHS]
    process = subprocess.run([sys.executable, "-c", RUN_ALL, json.dumps(commands), json.dumps(HEAVY)], cwd=REPO,
                             capture_output=True, text=True, timeout=120,
                             env={**os.environ, "DEVSEARCH_CACHE": str(tmp_path / "cache")})
    assert process.returncode == 0, process.stderr[-2000:]
    report = json.loads(process.stdout)
    for (args, message), (code, stdout, stderr) in zip(BAD_PATHS, report["results"]):
        assert code != 0 and stdout == "", args
        assert stderr.startswith(f"devsearch: error: {message.format(**paths)}") and stderr.count("\n") == 1, (args, stderr)
    assert report["loaded"] == []

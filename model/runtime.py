"""The light inference runtime: a converted model file in, batches through it out, with neither
TensorFlow nor Keras imported.

LiteRT (`ai-edge-litert`: the TensorFlow Lite interpreter alone, XNNPACK on the CPU) was chosen over
ONNX Runtime by measurement on the 2-core box (docs/ARCHITECTURE.md, "A light runtime for
inference"). Any `.tflite` file works: the bundle's network converted by model/converted.py, or a
detector that ships as one. Loading memory-maps the file; the first run of a batch shape plans it.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from devsearch.core.errors import UsageError
from devsearch.core.settings import usable_cores
from devsearch.model.backend import native_stderr_muted

SUFFIX = ".tflite"
WHEEL = "ai-edge-litert"


def runtime_installed() -> bool:
    """Whether the runtime's wheel is importable here (it has none for some platforms)."""
    return importlib.util.find_spec("ai_edge_litert") is not None


class RuntimeModel:
    """One model file, run batch by batch: `run({input: array}) -> {output: array}` by signature name.

    Not thread-safe: one caller at a time (the CLI's main thread, the server's model lane)."""

    def __init__(self, path: Path, threads: int | None = None):
        """threads: CPU threads for one batch (default: the cores this process may use)."""
        if not runtime_installed():
            raise UsageError(f"the inference runtime is not installed: pip install {WHEEL}")
        from ai_edge_litert.interpreter import Interpreter

        self.path = Path(path)
        try:
            self._interpreter = Interpreter(model_path=str(self.path), num_threads=threads or usable_cores())
        except ValueError as exc:  # LiteRT's word for a missing or unreadable model file
            raise UsageError(f"cannot load the model file {self.path}: {exc}") from None
        self._runner = self._interpreter.get_signature_runner()
        signature = next(iter(self._interpreter.get_signature_list().values()))
        self.inputs: tuple[str, ...] = tuple(signature["inputs"])
        self.outputs: tuple[str, ...] = tuple(signature["outputs"])
        self._planned = False

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The outputs for one batch of inputs (a new batch shape is planned once, then reused)."""
        if self._planned:
            return self._runner(**inputs)
        with native_stderr_muted():  # "INFO: Created TensorFlow Lite XNNPACK delegate", from C++
            out = self._runner(**inputs)
        self._planned = True
        return out

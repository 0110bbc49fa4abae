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
    """One model file, run batch by batch: `run({input: array}) -> {output: array}`, by the names of its
    signature, or of its tensors when it has none.

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
        signatures = self._interpreter.get_signature_list()
        if signatures:  # named inputs and outputs (Keras's export, this project's earlier conversions)
            signature = next(iter(signatures.values()))
            self.inputs: tuple[str, ...] = tuple(signature["inputs"])
            self.outputs: tuple[str, ...] = tuple(signature["outputs"])
            self._call = self._interpreter.get_signature_runner()
        else:  # its tensors' own names (model/converted.py's files, MediaPipe's detectors)
            self._tensors = {d["name"]: d["index"] for d in self._interpreter.get_input_details()}
            self._outputs = {d["name"]: d["index"] for d in self._interpreter.get_output_details()}
            self.inputs, self.outputs = tuple(self._tensors), tuple(self._outputs)
            with native_stderr_muted():  # the XNNPACK line, here at the first allocation
                self._interpreter.allocate_tensors()
            self._call = self._by_tensor_names
        self._planned = False

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The outputs for one batch of inputs (a new batch shape is planned once, then reused)."""
        if self._planned:
            return self._call(**inputs)
        with native_stderr_muted():  # "INFO: Created TensorFlow Lite XNNPACK delegate", from C++
            out = self._call(**inputs)
        self._planned = True
        return out

    def _by_tensor_names(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        interpreter = self._interpreter
        resized = False
        for name, value in inputs.items():
            if tuple(interpreter.get_tensor(self._tensors[name]).shape) != value.shape:
                interpreter.resize_tensor_input(self._tensors[name], value.shape)
                resized = True
        if resized:
            interpreter.allocate_tensors()
        for name, value in inputs.items():
            interpreter.set_tensor(self._tensors[name], value)
        interpreter.invoke()
        return {name: interpreter.get_tensor(index) for name, index in self._outputs.items()}

"""Which Keras backend runs the network, chosen before Keras is imported, and on which device.

Keras reads KERAS_BACKEND once, at its first import, so every command that loads the network calls
select_backend() before anything imports Keras, and import_keras() where Keras is first needed.
`auto` picks JAX when it is installed and sees a GPU, else TensorFlow (the default install).
This module imports no Keras itself: `devsearch query` and an unchanged re-index stay free of it.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from collections.abc import Iterator

from devsearch.core.errors import UsageError
from devsearch.core.notices import warn
from devsearch.core.settings import debug_requested

_INSTALL_HINT = {
    "tensorflow": "pip install tensorflow-cpu (the default install)",
    "jax": "pip install 'devsearch[gpu]' for CUDA 12 GPUs, or 'devsearch[jax]' for the CPU",
    "torch": "pip install torch",
    "litert": "pip install ai-edge-litert (a dependency of devsearch, where it has a wheel)",
}
LIGHT_RUNTIME = "litert"  # inference without Keras (model/runtime.py)
# Packages through which JAX reaches a GPU (its CUDA/ROCm PJRT plugins): without one, jax sees none.
_JAX_GPU_PLUGINS = ("jax_plugins", "jax_cuda12_plugin", "jax_cuda13_plugin")


@contextlib.contextmanager
def native_stderr_muted() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null for a while: TensorFlow and XLA write their start-up lines
    (oneDNN, cpu_feature_guard, absl's pre-init warning) from C++, where TF_CPP_MIN_LOG_LEVEL no longer
    reaches them. A no-op under DEVSEARCH_DEBUG."""
    if debug_requested():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def _jax_sees_a_gpu() -> bool:
    if not _installed("jax") or not any(_installed(plugin) for plugin in _JAX_GPU_PLUGINS):
        return False
    import logging

    with native_stderr_muted():
        logging.getLogger("jax._src.xla_bridge").setLevel(logging.ERROR)  # "no GPU found, falling back"
        import jax

        return any(device.platform == "gpu" for device in jax.devices())


def resolve_backend(choice: str) -> str:
    """The Keras backend `choice` (one of core.settings.BACKENDS) means here: auto resolved, checked to be
    installed; litert (inference only) trains and converts on TensorFlow."""
    if choice == "auto":
        choice = "jax" if _jax_sees_a_gpu() else "tensorflow"
    elif choice == LIGHT_RUNTIME:
        choice = "tensorflow"
    if not _installed(choice):
        raise UsageError(f"the {choice} backend is not installed: {_INSTALL_HINT[choice]}")
    return choice


def infers_on_light_runtime(choice: str) -> bool:
    """Whether inference runs on the light runtime (model/runtime.py) rather than Keras: `litert`, or
    `auto` where JAX sees no GPU. Without the runtime's wheel, `auto` falls back to Keras on TensorFlow
    (a warning says so) and `litert` is an error."""
    if choice not in ("auto", LIGHT_RUNTIME) or (choice == "auto" and _jax_sees_a_gpu()):
        return False
    if _installed("ai_edge_litert"):
        return True
    if choice == LIGHT_RUNTIME:
        raise UsageError(f"the {LIGHT_RUNTIME} runtime is not installed: {_INSTALL_HINT[LIGHT_RUNTIME]}")
    warn("the inference runtime is not installed, so the network runs on TensorFlow (seconds more per "
         f"command): {_INSTALL_HINT[LIGHT_RUNTIME]}")
    return False


def select_backend(choice: str) -> str:
    """Resolve the choice and set KERAS_BACKEND (and quiet TensorFlow's logging) before Keras loads."""
    backend = resolve_backend(choice)
    keras = sys.modules.get("keras")
    if keras is not None and keras.backend.backend() != backend:
        raise UsageError(f"Keras is already running on {keras.backend.backend()} in this process, not {backend}: "
                         "choose the backend before the network is first loaded")
    os.environ["KERAS_BACKEND"] = backend
    if not debug_requested():
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's C++ info and warnings after start-up
    return backend


def import_keras(choice: str) -> str:
    """Select the backend and import Keras on it, its native start-up chatter muted; returns the backend."""
    backend = select_backend(choice)
    if "keras" not in sys.modules:
        with native_stderr_muted():
            import keras  # noqa: F401
    return backend


def device_name() -> str:
    """Where the running Keras backend computes: 'cpu', or 'gpu: <model>'."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return "cpu" if device.platform == "cpu" else f"{device.platform}: {device.device_kind}"
    if backend == "torch":
        import torch

        return f"gpu: {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        return f"gpu: {gpus[0].name}" if gpus else "cpu"
    return backend


def resolve_precision(choice: str, backend: str, device: str) -> str:
    """`auto` is bfloat16 for JAX on a GPU (tests/test_backends.py holds it to float32's answers), else float32."""
    if choice == "auto":
        return "bfloat16" if backend == "jax" and device.startswith("gpu") else "float32"
    return choice

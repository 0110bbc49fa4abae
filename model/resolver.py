"""Which model a command uses, and its network loaded (and checked) only when a photo must be embedded.

One rule for every command: `--model DIR` first, then the model the store is bound to, then the
default bundle (the packaged trained one, else ConSE made once in the cache). Reading the choice
needs only manifests and the word lookup, so the query path imports this without Keras; the Keras
bundle (model/bundle.py) is imported the first time a network is needed.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from devsearch.core.errors import ModelMismatchError, UsageError
from devsearch.core.settings import Settings
from devsearch.core.waiting import step
from devsearch.model.backend import import_keras, infers_on_light_runtime, native_stderr_muted
from devsearch.model.bundle_words import open_words_for
from devsearch.model.conse import CLASS_VECTORS, CONSE_TOP_T, ConseProjection
from devsearch.model.manifest import (LABEL_VECTORS, MANIFEST_FILE, Manifest, conse_digest, projection_fingerprint,
                                      read_manifest)
from devsearch.wordspace.lookup import WordLookup

# one-time preparation on the 2-core box, said while it runs (measured: docs/performance.md)
PREPARING_S = 10
CONVERSION_S = 5

if TYPE_CHECKING:
    from devsearch.model.bundle import ModelBundle
    from devsearch.model.converted import ConvertedNetwork

    Network = ModelBundle | ConvertedNetwork  # the same inference methods: embed, embed_and_classify, words


def packaged_model_dir() -> Path | None:
    """The trained bundle shipped inside the package, when there is one."""
    folder = Path(str(resources.files("devsearch.model") / "default_model"))
    return folder if (folder / MANIFEST_FILE).is_file() else None


def conse_model_dir(settings: Settings) -> Path:
    """Where the training-free default (EfficientNet-Lite0 + ConSE + GloVe-50d) is materialised."""
    return settings.cache / "models" / f"efficientnet-lite0-conse-t{CONSE_TOP_T}-{CLASS_VECTORS}-glove-6b-50d"


def default_model_dir(settings: Settings) -> Path:
    """The shipped trained bundle if there is one, else the ConSE bundle (made once in the cache)."""
    return _default_model(settings)[0]


def _default_model(settings: Settings) -> tuple[Path, ModelBundle | None]:
    """default_model_dir, with the Keras bundle when this call made it (so it is not built again)."""
    packaged = packaged_model_dir()
    if packaged is not None:
        return packaged, None
    folder = conse_model_dir(settings)
    if (folder / MANIFEST_FILE).is_file():
        return folder, None
    with step(f"preparing the built-in model, once: converting its weights (about {PREPARING_S} s)", at_once=True):
        import_keras(settings.backend)
        from devsearch.model.bundle import make_bundle  # Keras: only the first time the default is needed

        with native_stderr_muted():  # TensorFlow's C++ lines as it starts computing (cuInit, ...)
            return folder, make_bundle(folder, settings=settings)


class ResolvedModel:
    """The chosen model: its manifest and word space now, its network on first use."""

    def __init__(self, manifest: Manifest, settings: Settings, built: ModelBundle | None = None):
        """built: the Keras bundle of this manifest when it was just made, used instead of loading it."""
        self.manifest = manifest
        self.settings = settings
        self._words: WordLookup | None = None
        self._bundle: Network | None = None
        self._built = built

    @property
    def words(self) -> WordLookup:
        if self._words is None:
            self._words = open_words_for(self.manifest, self.settings)
        return self._words

    def network(self) -> Network:
        """The network for inference, loaded once: on the light runtime (converted and cached on first
        use, float32) unless the settings' backend says Keras (model.backend.infers_on_light_runtime)
        or their precision is bfloat16."""
        if self._bundle is None:
            light = self.settings.precision != "bfloat16" and infers_on_light_runtime(self.settings.backend)
            self._bundle = self._converted() if light else self.keras_bundle()
            self._built = None  # converted or kept as the network: no second copy in memory
        return self._bundle

    def keras_bundle(self) -> ModelBundle:
        """The bundle's Keras model (training, evaluation, the Keras backends); it must be the space
        the manifest names."""
        if self._built is not None:
            return self._built
        folder = self._folder()
        with step("loading the network (Keras)"):
            import_keras(self.settings.backend)  # the backend is chosen before Keras is first imported
            from devsearch.model.bundle import load_bundle  # Keras: only when it is asked for

            with native_stderr_muted():  # TensorFlow's C++ lines while it looks for devices (cuInit, ...)
                bundle = load_bundle(folder, self.settings)
        self._check(bundle.fingerprint)
        return bundle

    def _converted(self) -> ConvertedNetwork:
        from devsearch.model.converted import ConvertedNetwork, cached_network, convert

        path = cached_network(self.settings, self.manifest.fingerprint)
        if path is None:
            folder = self._folder()
            self._check(read_manifest(folder).fingerprint)  # before seconds of conversion
            with step(f"preparing the network for the light runtime, once (about {CONVERSION_S} s)", at_once=True):
                path = convert(self._built or self._load_for_conversion(folder), self.settings)
        return ConvertedNetwork(self.manifest, path, self.words,
                                self.projection if self.manifest.projects_classes else None)

    def _load_for_conversion(self, folder: Path) -> ModelBundle:
        import_keras("tensorflow")  # TensorFlow converts, whatever backend the settings name
        from devsearch.model.bundle import load_bundle

        with native_stderr_muted():  # TensorFlow's C++ lines while it looks for devices (cuInit, ...)
            return load_bundle(folder, self.settings)

    def _check(self, fingerprint: str) -> None:
        if fingerprint != self.manifest.fingerprint:
            raise ModelMismatchError(
                f"the model found for this store is {fingerprint}, but the store was built with "
                f"{self.manifest.fingerprint}: run `devsearch index --rebuild PATH`, or pass its --model"
            )

    def embed(self, images: np.ndarray) -> np.ndarray:
        """Unit word-space vectors of uint8 images (N, 224, 224, 3)."""
        return self.network().embed(images)

    def runtime(self) -> dict[str, str] | None:
        """Backend, device and precision of the network, None when it was never loaded."""
        return None if self._bundle is None else self._bundle.runtime()

    def embed_for_store(self, images: np.ndarray, pad_to: int | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
        """What a store keeps of images: their vectors, with the classifier's probabilities when the
        vectors are a projection of them (ConSE), so the store can rank by class and re-project.
        pad_to: the batch size the caller runs at, so a short last batch reuses the compiled shape."""
        vectors, probabilities = self.network().embed_and_classify(images, pad_to)
        return (vectors, probabilities) if self.manifest.projects_classes else vectors

    def projection(self) -> ConseProjection:
        """The ConSE projection alone (no Keras), checked against the manifest's fingerprint."""
        folder = self._folder()
        try:
            vectors = np.load(folder / LABEL_VECTORS, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise UsageError(f"cannot read the class vectors of the model bundle {folder}: {exc}") from None
        digests = {"head": conse_digest(vectors, int(self.manifest.top_t)), "words": self.words.fingerprint}
        if not self.manifest.fingerprint.endswith("/" + projection_fingerprint(self.manifest, digests)):
            raise UsageError(
                f"model bundle {folder} does not match its manifest (class vectors or words changed): "
                "delete it if it is the cached default, or make it again"
            )
        return ConseProjection(vectors, int(self.manifest.top_t))

    def _folder(self) -> Path:
        """Where the manifest came from, else (a bound bundle that has since gone) the default."""
        path = self.manifest.path
        if path is not None and (Path(path) / MANIFEST_FILE).is_file():
            return Path(path)
        return default_model_dir(self.settings)


def resolve_model(settings: Settings, bound: Manifest | None = None) -> ResolvedModel:
    """--model first, then the store's bound model, then the default; the caller checks the binding."""
    if settings.model is not None:
        return ResolvedModel(read_manifest(Path(settings.model)), settings)
    if bound is not None:
        return ResolvedModel(bound, settings)
    folder, built = _default_model(settings)
    return ResolvedModel(read_manifest(folder), settings, built)


def model_to_index_with(settings: Settings, bound: Manifest | None) -> ResolvedModel:
    """resolve_model for `devsearch index`, except that a store indexed with the built-in ConSE model
    (a ConSE bundle: no command makes others) follows it to the current built-in model."""
    if settings.model is None and bound is not None and bound.head == "conse":
        return resolve_model(settings)
    return resolve_model(settings, bound)


def can_move_to(bound: Manifest, new: Manifest, settings: Settings) -> bool:
    """Whether a store bound to `bound` may be moved to `new` without --rebuild: `new` projects the
    classifier outputs the store keeps from the same backbone (re-projected, no decoding), or the
    store follows the built-in model (photos without kept outputs are embedded again)."""
    same_backbone = bound.backbone_fingerprint is not None and bound.backbone_fingerprint == new.backbone_fingerprint
    return (new.projects_classes and same_backbone) or (settings.model is None and bound.head == "conse")

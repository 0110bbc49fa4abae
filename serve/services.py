"""What the request handlers share: the settings, the library, the network, the thumbnails, the rescan and the lanes."""
from __future__ import annotations

from dataclasses import dataclass, field

from devsearch.core.settings import Settings
from devsearch.serve.lanes import Lanes
from devsearch.serve.library import Library
from devsearch.serve.image_model import ImageModel
from devsearch.serve.rescan import Rescanner
from devsearch.serve.thumbnails import Thumbnails
from devsearch.serve.uploads import ExampleVectors


@dataclass
class Services:
    settings: Settings
    library: Library
    image_model: ImageModel
    thumbnails: Thumbnails
    rescanner: Rescanner
    lanes: Lanes = field(default_factory=Lanes)
    examples: ExampleVectors = field(default_factory=ExampleVectors)

    @classmethod
    def open(cls, settings: Settings) -> "Services":
        """Open the store (EmptyStoreError when nothing is indexed) and load its vectors."""
        library = Library(settings)
        return cls(settings, library, ImageModel(), Thumbnails(library.home), Rescanner(settings))

    def close(self) -> None:
        self.rescanner.stop()
        self.lanes.shutdown()
        self.library.close()

"""Move a store to a new ConSE projection of the same backbone from the top classes it keeps.

No photo is decoded and the network is not loaded: each photo's vector is recomputed from its
stored top classes (store/kept_classes.py) in batches of one transaction each, so 100k photos
take seconds and an interrupted run resumes with the photos not yet done.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from devsearch.model.conse import ConseProjection
from devsearch.model.manifest import Manifest
from devsearch.model.people import with_person
from devsearch.store.catalog import Store
from devsearch.store.records import ChangeSet, Reprojected

BATCH = 5000


def reproject(store: Store, manifest: Manifest, projection: ConseProjection,
              stop: Callable[[], bool] = lambda: False, person_vector: Callable[[], np.ndarray] | None = None) -> int:
    """Re-project every indexed photo that another model of manifest's backbone embedded; returns how many.
    person_vector: `person` in the new model's words, for the person component of photos the people
    detectors looked at (model/people.py); None leaves it out."""
    done, after = 0, 0
    while not stop():
        ids, class_ids, probabilities = store.classes_to_reproject(manifest.fingerprint, manifest.backbone_fingerprint,
                                                                   after, BATCH)
        if not len(ids):
            break
        vectors = projection(class_ids, probabilities)
        if person_vector is not None:
            people = store.people_of(ids)
            scores = np.array([people[i].person_score if i in people else 0.0 for i in ids.tolist()], np.float32)
            vectors = with_person(vectors, scores, person_vector())
        store.commit(ChangeSet(reprojected=[Reprojected(int(i), v) for i, v in zip(ids, vectors)]))
        done, after = done + len(ids), int(ids[-1])
    return done

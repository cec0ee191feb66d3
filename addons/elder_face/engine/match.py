# This file is part of the eldercare platform. See LICENSE.
"""1:1 verification and 1:N identification on 128-d embeddings.

Scores are Euclidean distances between embeddings (lower = more alike).
A person may have several templates; a probe is compared with each and
the smallest distance is the person's distance.

- verify: accept when the distance ≤ threshold.
- identify: the best person is accepted when its distance ≤ threshold AND
  the second-best *other* person is at least ``margin`` farther; otherwise
  the answer is "unknown" (``ambiguous`` when only the margin failed), so
  that two look-alikes are never confused silently.

The search is one vectorised numpy expression over a (N, 128) float32
matrix: ||t||² - 2 t·p + ||p||², then a per-person minimum via
``np.minimum.reduceat`` on templates sorted by person.
"""
import dataclasses

import numpy as np

# dlib's calibration of its ResNet model on LFW (0.6: 99.38 %). The module
# configuration holds the threshold in use; the evaluation command reports
# the error rates of any threshold on a labelled set (see README).
DEFAULT_THRESHOLD = 0.6
DEFAULT_MARGIN = 0.05


def distances(matrix, probe):
    "Euclidean distances of probe (128,) to each row of matrix (N, 128)"
    matrix = np.asarray(matrix, dtype=np.float32)
    probe = np.asarray(probe, dtype=np.float32)
    if not len(matrix):
        return np.zeros(0, dtype=np.float32)
    sq = (np.einsum('ij,ij->i', matrix, matrix) - 2 * matrix @ probe
        + probe @ probe)
    return np.sqrt(np.maximum(sq, 0))


@dataclasses.dataclass
class Verification:
    distance: float
    threshold: float
    match: bool


def verify(probe, templates, threshold=DEFAULT_THRESHOLD):
    "1:1: the probe against the templates of one person"
    templates = np.asarray(templates, dtype=np.float32).reshape(-1, 128)
    if not len(templates):
        return Verification(float('inf'), threshold, False)
    distance = float(distances(templates, probe).min())
    return Verification(distance, threshold, distance <= threshold)


@dataclasses.dataclass
class Identification:
    label: object          # the accepted person's label, or None
    best: object           # the nearest person's label (even if refused)
    distance: float        # distance to best
    second: object         # the second nearest person's label
    second_distance: float
    threshold: float
    margin: float
    decision: str          # 'match', 'unknown', 'ambiguous', 'empty'

    @property
    def gap(self):
        return self.second_distance - self.distance


class Gallery:
    """Templates of many people for 1:N search.

    labels: one label per template (e.g. the pseudonymous key); a person
    with several templates has the label several times."""

    def __init__(self, labels, embeddings):
        embeddings = np.asarray(embeddings, dtype=np.float32).reshape(-1, 128)
        labels = list(labels)
        if len(labels) != len(embeddings):
            raise ValueError("one label per embedding")
        order = sorted(range(len(labels)), key=lambda i: str(labels[i]))
        self.matrix = np.ascontiguousarray(embeddings[order])
        sorted_labels = [labels[i] for i in order]
        self.starts = []
        self.people = []
        for i, label in enumerate(sorted_labels):
            if not self.people or self.people[-1] != label:
                self.people.append(label)
                self.starts.append(i)
        self.starts = np.asarray(self.starts, dtype=np.intp)
        self.norms = np.einsum('ij,ij->i', self.matrix, self.matrix)

    def __len__(self):
        return len(self.matrix)

    def person_distances(self, probe):
        "(N people,) the smallest distance of each person to the probe"
        probe = np.asarray(probe, dtype=np.float32)
        sq = self.norms - 2 * (self.matrix @ probe) + probe @ probe
        d = np.sqrt(np.maximum(sq, 0))
        return np.minimum.reduceat(d, self.starts)

    def identify(self, probe, threshold=DEFAULT_THRESHOLD,
            margin=DEFAULT_MARGIN):
        if not len(self.people):
            return Identification(None, None, float('inf'), None,
                float('inf'), threshold, margin, 'empty')
        d = self.person_distances(probe)
        if len(d) > 1:
            two = np.argpartition(d, 1)[:2]
            two = two[np.argsort(d[two])]
            i, j = int(two[0]), int(two[1])
            second, second_distance = self.people[j], float(d[j])
        else:
            i = 0
            second, second_distance = None, float('inf')
        best, distance = self.people[i], float(d[i])
        if distance > threshold:
            decision, label = 'unknown', None
        elif second_distance - distance < margin:
            decision, label = 'ambiguous', None
        else:
            decision, label = 'match', best
        return Identification(label, best, distance, second, second_distance,
            threshold, margin, decision)

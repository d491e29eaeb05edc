"""The photo detector of "none of the ten": a logistic regression on the network's features.

The energy score (mlmodel.novelty) knows only what training showed the network: Fashion-MNIST and
made-up outliers. A hat, shorts or a skirt cut out of a phone photo looks to it much like a bag,
trousers or a dress, and often scores as high. Real photos of such garments show what tells them
apart: a logistic regression on the network's penultimate features (the 256 values its last layer
turns into logits), fitted on the tune split's photos of the ten classes and Fashion-MNIST
training images against its photos of other garments. It is outlier exposure with real outliers,
on the features rather than the whole network, so the classifier itself is still trained on
Fashion-MNIST alone. Its score, the logit of "one of the ten", is the photo's *familiarity*.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Weight decay on the standardised features: 2,168 photos against 256 features would otherwise be
# learnt by heart (fitted without it, the tune photos were told apart perfectly). 1, 10 and 100 were
# tried: within 5 points of each other.
L2 = 10.0
NEWTON_STEPS = 30
FOLDS = 5


@dataclass(frozen=True, eq=False)
class Detector:
    weights: np.ndarray  # float32 (features,)
    bias: float

    def familiarity(self, features: np.ndarray) -> np.ndarray:
        """The logit that each row of features (n, features) is of one of the ten classes; features
        may be numpy or the serving graph's tensors (mlmodel.litert), so both compute it alike."""
        return features @ self.weights + self.bias


def fit(features: np.ndarray, of_the_ten: np.ndarray, l2: float = L2) -> Detector:
    """L2-regularised logistic regression by Newton's method: of_the_ten (n,) bool is the target."""
    mean, scale = features.mean(axis=0), features.std(axis=0) + 1e-6
    design = np.hstack([(features - mean) / scale, np.ones((len(features), 1))])
    target = of_the_ten.astype(np.float64)
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0  # the bias is not shrunk
    coefficients = np.zeros(design.shape[1])
    for _ in range(NEWTON_STEPS):
        probability = 1 / (1 + np.exp(-(design @ coefficients)))
        gradient = design.T @ (probability - target) + penalty * coefficients
        hessian = (design * (probability * (1 - probability))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        coefficients -= step
        if np.abs(step).max() < 1e-6:
            break
    # Standardisation folded into the weights: the served graph applies one dot product.
    weights = coefficients[:-1] / scale
    return Detector(weights.astype(np.float32), float(coefficients[-1] - mean @ weights))


def fit_cross_validated(
    photo_features: np.ndarray, of_the_ten: np.ndarray, known_features: np.ndarray, seed: int = 0
) -> tuple[Detector, np.ndarray]:
    """The detector fitted on all photos (and known_features, examples of the ten), with each photo's
    familiarity from a detector fitted without it (FOLDS folds).

    A threshold must be set on those out-of-fold scores: on photos it was fitted on, the detector is
    surer than it will be on new ones, and a threshold set there flags more right answers later.
    """
    fold = np.random.default_rng(seed).integers(0, FOLDS, len(photo_features))
    known = np.ones(len(known_features), bool)
    out_of_fold = np.empty(len(photo_features))
    for k in range(FOLDS):
        inside = fold != k
        detector = fit(
            np.concatenate([photo_features[inside], known_features]),
            np.concatenate([of_the_ten[inside], known]),
        )
        out_of_fold[~inside] = detector.familiarity(photo_features[~inside])
    final = fit(np.concatenate([photo_features, known_features]), np.concatenate([of_the_ten, known]))
    return final, out_of_fold


def save(detector: Detector, path: Path) -> None:
    """Keep a detector beside its model (the LiteRT export holds it too): `load` reads it back."""
    np.savez(path, weights=detector.weights, bias=np.float64(detector.bias))


def load(path: Path) -> Detector:
    with np.load(path) as saved:
        return Detector(saved["weights"], float(saved["bias"]))

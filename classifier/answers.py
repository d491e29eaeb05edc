"""A prediction's answer in plain words, as the result and batch pages say it.

The probabilities are calibrated (temperature scaling, mlmodel.evaluation), so "a 48% chance" means
what it says, and the words follow them: sure at or above UNCERTAIN_BELOW ("Sneaker"; below 90% it
says it is not certain and names the runner-up), unsure below it ("Probably a Shirt, maybe a
T-shirt/top"), and "probably none of the ten classes" when the model's
scores say the photo is like none of what it knows (mlmodel.novelty, Prediction.uncertain_reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlmodel.classes import CLASS_NAMES

from .models import Prediction

SURE = "sure"
UNSURE = "low_confidence"
NONE_OF_THE_TEN = "none_of_the_ten"
# A sure answer below this chance says it is not certain, and names the runner-up.
QUITE_SURE_FROM = 0.9
# An unsure answer names the third class too when it has at least this chance.
MENTION_THIRD_FROM = 0.1
# "Trouser" is Fashion-MNIST's name; English needs the plural, without an article.
PHRASES = {"Trouser": "Trousers"}


@dataclass(frozen=True)
class Share:
    name: str
    probability: float

    @property
    def percent(self) -> str:
        return percent(self.probability)


@dataclass(frozen=True)
class Answer:
    kind: str  # SURE, UNSURE or NONE_OF_THE_TEN
    headline: str
    detail: str
    top: list[Share]  # the three most likely classes, most likely first
    classes: tuple[str, ...] = CLASS_NAMES  # what the model knows, listed for "none of the ten"

    @property
    def is_sure(self) -> bool:
        return self.kind == SURE


def a(name: str) -> str:
    """The class name with its article: "a Shirt", "an Ankle boot", "Trousers"."""
    if name in PHRASES:
        return PHRASES[name]
    return ("an " if name[0].lower() in "aeiou" else "a ") + name


def percent(probability: float) -> str:
    """A probability as people read it: "48%", never "100%" or "0%" for what is not certain."""
    if probability > 0.99:
        return "more than 99%"
    if probability < 0.01:
        return "less than 1%"
    return f"{probability:.0%}"


def answer_for(prediction: Prediction) -> Answer:
    (best, p_best), (second, p_second), (third, p_third) = prediction.class_probabilities[:3]
    top = [Share(best, p_best), Share(second, p_second), Share(third, p_third)]
    reason = prediction.uncertain_reason
    if reason == NONE_OF_THE_TEN:
        return Answer(
            NONE_OF_THE_TEN,
            "Probably none of the ten classes",
            f"The photo does not look like any of the ten kinds of clothing the model knows. "
            f"Its closest guess is {a(best)} ({percent(p_best)}), not to be trusted.",
            top,
        )
    if reason == UNSURE:
        maybe = a(second) + (f" or {a(third)}" if p_third >= MENTION_THIRD_FROM else "")
        return Answer(
            UNSURE,
            f"Probably {a(best)}, maybe {maybe}",
            f"The model is not sure: it gives {a(best)} a {percent(p_best)} chance "
            f"and {a(second)} {percent(p_second)}.",
            top,
        )
    if p_best >= QUITE_SURE_FROM:
        return Answer(SURE, best, f"The model is sure: it gives {a(best)} a {percent(p_best)} chance.", top)
    return Answer(
        SURE,
        best,
        f"Most likely, not certain: the model gives {a(best)} a {percent(p_best)} chance "
        f"and {a(second)} {percent(p_second)}.",
        top,
    )

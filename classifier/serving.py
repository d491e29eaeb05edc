"""The predictor the site serves: the active model version in MODEL_DIR, in PREDICTOR_PRECISION."""

from django.conf import settings

from mlmodel.predictor import Predictor, get_predictor


def site_predictor() -> Predictor:
    """Loaded once per process; another activation takes effect within a second (get_predictor)."""
    return get_predictor(settings.MODEL_DIR, settings.PREDICTOR_PRECISION)

"""The clothing classifier in the Django admin.

- changelist.py: the predictions changelist apart from HTTP (query string in, page and links out)
- filters.py: its filter sidebar
- display.py: how a prediction's page shows what is stored, and the correction form
- predictions.py: PredictionAdmin, the list and CSV export, a prediction's page, correct and delete
- model_versions.py: ModelVersionAdmin, the trained versions and making one active
- api_tokens.py: ApiTokenAdmin, making (shown once) and revoking the JSON API's tokens

Django's admin autodiscovery imports this package; importing the admins registers them.
"""

from .api_tokens import ApiTokenAdmin
from .model_versions import ModelVersionAdmin
from .predictions import PredictionAdmin

__all__ = ["ApiTokenAdmin", "ModelVersionAdmin", "PredictionAdmin"]

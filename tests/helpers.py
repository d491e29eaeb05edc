import io

import numpy as np
import pytest
from PIL import Image

# Tests that read or write predictions: the test keyspace on the test node, emptied after each test.
cassandra_db = pytest.mark.django_db(databases=["default", "cassandra"], transaction=True)


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()

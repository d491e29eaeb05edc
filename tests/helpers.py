import html
import io
import re

import numpy as np
import pytest
from PIL import Image

# Tests that read or write predictions: the test keyspace on the test node, emptied after each test.
cassandra_db = pytest.mark.django_db(databases=["default", "cassandra"], transaction=True)


def png_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def listed(page_html: str) -> list[str]:
    """The filenames in the admin's results table, top to bottom."""
    table = page_html.split('id="result_list"', 1)[-1] if 'id="result_list"' in page_html else ""
    return [html.unescape(name) for name in re.findall(r"</th>\s*<td>([^<>]+)</td>", table)]

"""The seed lab's way of serving the model, the baseline bench/load.py measures the site against.

    .venv/bin/python -m bench.seed_lab --port 8711 [--cassandra-port 9042]

What the student lab that fashionsite grew from did, and nothing more: a Flask app (its own
threaded development server), the picture read with PIL, made grey and 28x28, Keras
`model.predict` on every request, one INSERT of the time, the filename and the result into a table
of its own keyspace (`seed_lab`, on the same node as the site), a JSON answer. No segmentation,
no thumbnail, no repeat lookup, no chart. It runs the site's active Keras model, so both sides
compute the same network. POST /predict with the file as `image`; 200 {"id", "label", "confidence"}.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from cassandra.cluster import Cluster  # noqa: E402
from flask import Flask, jsonify, request  # noqa: E402
from PIL import Image  # noqa: E402

from mlmodel import artifacts  # noqa: E402
from mlmodel.classes import CLASS_NAMES  # noqa: E402

KEYSPACE = "seed_lab"
TABLE = f"{KEYSPACE}.predictions"


def create_app(cassandra_host: str, cassandra_port: int) -> Flask:
    version = artifacts.active_version(artifacts.DEFAULT_MODEL_DIR)
    model = keras.saving.load_model(artifacts.model_path(version, artifacts.DEFAULT_MODEL_DIR), compile=False)
    session = Cluster([cassandra_host], port=cassandra_port).connect()
    session.execute(
        f"CREATE KEYSPACE IF NOT EXISTS {KEYSPACE} "
        "WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}"
    )
    session.execute(
        f"CREATE TABLE IF NOT EXISTS {TABLE} "
        "(id uuid PRIMARY KEY, time timestamp, filename text, result text)"
    )
    app = Flask(__name__)

    @app.post("/predict")
    def predict():
        file = request.files["image"]
        image = Image.open(file.stream).convert("L").resize((28, 28))
        pixels = np.asarray(image, dtype=np.float32)[np.newaxis, :, :, np.newaxis]
        logits = model.predict(pixels, verbose=0)[0]
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        index = int(np.argmax(probabilities))
        prediction_id = uuid.uuid4()
        session.execute(
            f"INSERT INTO {TABLE} (id, time, filename, result) VALUES (%s, %s, %s, %s)",
            (prediction_id, datetime.datetime.now(datetime.UTC), file.filename, CLASS_NAMES[index]),
        )
        return jsonify(
            id=str(prediction_id), label=CLASS_NAMES[index], confidence=float(probabilities[index])
        )

    @app.get("/")
    def ready():
        return jsonify(status="ok")

    return app


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8711)
    parser.add_argument("--cassandra-host", default="127.0.0.1")
    parser.add_argument("--cassandra-port", type=int, default=int(os.environ.get("CASSANDRA_PORT", 9042)))
    args = parser.parse_args()
    create_app(args.cassandra_host, args.cassandra_port).run("127.0.0.1", args.port, threaded=True)


if __name__ == "__main__":
    main()

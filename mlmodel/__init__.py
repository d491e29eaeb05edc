"""Fashion-MNIST classifier: data, network, training, evaluation and report, artifacts and their
LiteRT export, preprocessing and serving.

Nothing in this package imports Django or the site (`classifier`): the ``manage.py train_model``
command that reads corrections from Cassandra lives in classifier/management/commands/.
"""

import os

# TensorFlow's C++ start-up INFO/WARNING lines (oneDNN, CPU features) drown the
# training progress bar and server logs. setdefault: an explicit choice wins.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np
import pytest
import tensorflow as tf

from mlmodel.batch_norm import FusedBatchNormalization
from mlmodel.network import build_model
from mlmodel.training import TrainingConfig, compiled_model


def _pair(shape: tuple[int, ...], rng: np.random.Generator) -> tuple[keras.layers.Layer, keras.layers.Layer]:
    """Keras's layer and the fused one, with the same (not trivial) weights."""
    channels = shape[-1]
    weights = [
        rng.normal(1, 0.2, channels).astype(np.float32),  # gamma
        rng.normal(0, 0.2, channels).astype(np.float32),  # beta
        rng.normal(0, 0.5, channels).astype(np.float32),  # moving mean
        rng.uniform(0.5, 2, channels).astype(np.float32),  # moving variance
    ]
    pair = keras.layers.BatchNormalization(momentum=0.9), FusedBatchNormalization(momentum=0.9)
    for layer in pair:
        layer.build(shape)
        layer.set_weights(weights)
    return pair


@pytest.mark.parametrize("shape", [(32, 14, 14, 8), (48, 16)], ids=["feature maps", "dense features"])
def test_the_fused_layer_trains_as_keras_does(shape):
    rng = np.random.default_rng(0)
    keras_layer, fused_layer = _pair(shape, rng)
    x = tf.constant(rng.normal(2, 3, shape).astype(np.float32))
    # Outside training it is Keras's layer, with its running statistics.
    np.testing.assert_allclose(
        fused_layer(x, training=False).numpy(), keras_layer(x, training=False).numpy(), atol=1e-5
    )

    outputs, gradients = [], []
    for layer in (keras_layer, fused_layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(0.3 * y * y + y)
        outputs.append(y.numpy())
        gradients.append(tape.gradient(loss, [x, layer.gamma.value, layer.beta.value]))

    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-4)
    for fused, plain in zip(*gradients):
        np.testing.assert_allclose(fused.numpy(), plain.numpy(), rtol=1e-3, atol=1e-3)
    # Both moved their running statistics a tenth of the way to the batch's; the fused one takes
    # the unbiased variance of the batch (n / (n - 1) times the biased one).
    n = np.prod(shape[:-1])
    np.testing.assert_allclose(
        np.asarray(fused_layer.moving_mean), np.asarray(keras_layer.moving_mean), atol=1e-5
    )
    batch_variance = x.numpy().reshape(-1, shape[-1]).var(axis=0)
    unbiased_step = 0.1 * batch_variance * (n / (n - 1) - 1)
    np.testing.assert_allclose(
        np.asarray(fused_layer.moving_variance),
        np.asarray(keras_layer.moving_variance) + unbiased_step,
        rtol=1e-4,
    )


def test_only_the_network_that_trains_has_the_fused_layer():
    def fused_layers(model: keras.Model) -> int:
        return sum(isinstance(layer, FusedBatchNormalization) for layer in model.layers)

    training = compiled_model(TrainingConfig(), "float32", steps=10)
    served = build_model()
    assert fused_layers(training) == 6
    # What is saved and served keeps Keras's own layer (Keras alone loads it) and takes the
    # trained weights as they are.
    assert fused_layers(served) == 0
    served.set_weights(training.get_weights())
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28, 1)).astype(np.float32)
    np.testing.assert_allclose(
        served.predict(images, verbose=0), training.predict(images, verbose=0), atol=1e-5
    )

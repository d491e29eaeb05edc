"""Batch normalisation that trains with TensorFlow's fused kernel, for the network while it trains."""

import tensorflow as tf
from keras import layers, ops


class FusedBatchNormalization(layers.BatchNormalization):
    """Keras's BatchNormalization, its training steps done by one fused TensorFlow kernel.

    Keras 3 normalises a training batch with separate operations (moments, then scale and shift),
    and their gradients are more of them: on this project's 2-core CPUs a training step of the
    network took about a quarter longer than with `FusedBatchNormV3`, which oneDNN runs in one pass
    each way (bench.training_step). The outputs and gradients are the same to float32 rounding; the
    running variance takes the batch's unbiased variance (n / (n - 1) times Keras's, 1.004 at most
    for the dense layer's batch of 271). Outside training, and for what the fused kernel does not
    do (another axis, masks, renormalisation), it is Keras's layer as it is.

    Only the network that trains uses it (network.build_model(fused_batch_norm=True)): the weights
    are the same four per layer, and the model that is saved and served keeps Keras's own layer,
    so that Keras alone loads it.
    """

    def call(self, inputs, training=None, mask=None):
        last_axis = self.axis in (-1, len(inputs.shape) - 1)
        if not (training and self.trainable) or not last_axis or mask is not None or self.renorm:
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, tf.float32)  # as Keras does: batch statistics overflow in bfloat16
        flat = len(x.shape) == 2
        if flat:  # the kernel wants images: a (batch, features) input is (batch, 1, 1, features)
            x = x[:, tf.newaxis, tf.newaxis, :]
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x,
            tf.cast(self.gamma, tf.float32),
            tf.cast(self.beta, tf.float32),
            mean=self.moving_mean,
            variance=self.moving_variance,
            epsilon=self.epsilon,
            is_training=True,
            # Returns the running statistics moved towards the batch's by this share.
            exponential_avg_factor=1 - self.momentum,
        )
        self.moving_mean.assign(mean)
        self.moving_variance.assign(variance)
        if flat:
            y = y[:, 0, 0, :]
        return ops.cast(y, self.compute_dtype)

"""Tests for the analytic FLOP counter of the speed benchmark."""
import keras

from bench.flops import TRAIN_STEP_FACTOR, forward_flops, layer_flops, train_step_flops


def _tiny_model() -> keras.Model:
    """8x8x3 -> Conv2D(4, 3x3, same) -> DepthwiseConv2D(3x3, valid) -> pool -> Dense(2)."""
    x = inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(x)
    x = keras.layers.DepthwiseConv2D(3, padding="valid", name="depthwise")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="dense")(x))


def test_conv2d_counts_two_flops_per_multiply_accumulate():
    """Check that a 3x3 Conv2D from 3 to 4 channels on 8x8 counts 2 * 8*8*4 * 3*3*3 FLOPs."""
    assert layer_flops(_tiny_model().get_layer("conv")) == 2 * 8 * 8 * 4 * 3 * 3 * 3


def test_strided_conv2d_counts_output_positions_only():
    """Check that a stride-2 Conv2D counts its 4x4 output positions, not the 8x8 input's."""
    x = inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(5, 3, strides=2, padding="same",
                                                    name="conv")(x))
    assert layer_flops(model.get_layer("conv")) == 2 * 4 * 4 * 5 * 3 * 3 * 3


def test_depthwise_conv_counts_each_channel_alone():
    """Check that a 3x3 depthwise conv on 8x8x4 (valid, 6x6 out) counts 2 * 6*6*4 * 3*3 FLOPs."""
    assert layer_flops(_tiny_model().get_layer("depthwise")) == 2 * 6 * 6 * 4 * 3 * 3


def test_dense_counts_inputs_times_units():
    """Check that a Dense from 4 features to 2 units counts 2 * 4 * 2 FLOPs."""
    assert layer_flops(_tiny_model().get_layer("dense")) == 2 * 4 * 2


def test_forward_flops_sums_conv_and_dense_layers_only():
    """Check that the model total is the hand count of its conv, depthwise and dense layers."""
    assert forward_flops(_tiny_model()) == 13824 + 2592 + 16


def test_forward_flops_reaches_into_nested_models():
    """Check that a model used as a layer inside another adds its own layers' FLOPs."""
    inner = _tiny_model()
    inputs = keras.Input((8, 8, 3))
    outer = keras.Model(inputs, inner(inputs))
    assert forward_flops(outer) == forward_flops(inner)


def test_training_step_is_three_forward_passes():
    """Check that a training step counts 3x the forward FLOPs (forward + two gradients)."""
    model = _tiny_model()
    assert train_step_flops(model) == TRAIN_STEP_FACTOR * forward_flops(model) == 3 * 16432

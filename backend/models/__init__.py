"""Network architectures and pretrained weights, built with Keras 3."""

"""Evaluation: metrics on predicted classes and probabilities (numpy and pandas only)."""

"""Explaining the models (section 5 of the paper): GradCAM heatmaps, scores that
describe them, viridis overlays and the seeded gallery the dashboard shows.

`scores` and `overlay` are numpy only; `heatmaps` and `gallery` load TensorFlow,
so import them where TensorFlow is allowed (never from the dashboard).
"""

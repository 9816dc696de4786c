"""The explanation methods by name, as jobs, the command line and the dashboard offer
them. Import-light: no TensorFlow, no numpy."""
from __future__ import annotations

# name -> what it is, in one line (the dashboard's and the command line's help).
METHODS: dict[str, str] = {
    "gradcam": "GradCAM: the last convolutional feature map, weighted by the class's gradient",
    "gradcam++": "GradCAM++: GradCAM with pixel-wise weights",
    "occlusion": "occlusion sensitivity: how much the class's probability falls when each "
                 "part of the face is covered; works for any model, dlib_face and ensembles too",
}
# The methods that read a convolutional feature map (the others need only predictions).
FEATURE_MAP_METHODS = ("gradcam", "gradcam++")


def method_names() -> tuple[str, ...]:
    """Every method's name, GradCAM first."""
    return tuple(METHODS)


def needs_feature_map(method: str) -> bool:
    """Whether `method` can explain only models with a convolutional feature map."""
    return method in FEATURE_MAP_METHODS

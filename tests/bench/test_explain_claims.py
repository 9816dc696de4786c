"""The verdict bench/explain_claims.py gives on "VGG's maps are more concentrated"."""
import pytest

from bench.explain_claims import concentration_verdict


def _run(per_class):
    return {"per_class_accuracy": per_class}


def _rows(mass, entropy):
    return [{"colour": "colour", "outcome": "correct", "top10_mass": mass, "entropy": entropy},
            {"colour": "grey", "outcome": "correct", "top10_mass": 0.0, "entropy": 1.0}]


TRAINED = {"vgg19": _run([0.7] * 5), "resnet152v2": _run([0.6] * 5)}


def test_a_member_near_chance_makes_the_verdict_inconclusive():
    """Check that a member at chance balanced accuracy gives 'inconclusive', naming it."""
    runs = {"vgg19": _run([0.0, 0.0, 1.0, 0.0, 0.0]), "resnet152v2": _run([0.6] * 5)}
    verdict = concentration_verdict(runs, {"vgg19": _rows(0.3, 0.9),
                                           "resnet152v2": _rows(0.2, 0.95)})
    assert verdict.startswith("inconclusive: vgg19 reached 20.0% balanced")


@pytest.mark.parametrize("vgg, resnet, verdict", [
    ((0.3, 0.9), (0.2, 0.95), "holds: top-10% mass vgg19 0.300 vs resnet152v2 0.200"),
    ((0.2, 0.95), (0.3, 0.9), "does not hold (ResNet is more concentrated)"),
    ((0.3, 0.97), (0.2, 0.95), "mixed (the two measures disagree)"),
])
def test_verdict_weighs_mass_and_entropy_of_correct_colour_maps(vgg, resnet, verdict):
    """Check 'holds' for more VGG mass with less entropy, 'does not hold' for the reverse,
    and 'mixed' when the two measures disagree."""
    found = concentration_verdict(TRAINED, {"vgg19": _rows(*vgg), "resnet152v2": _rows(*resnet)})
    assert found.startswith(verdict)

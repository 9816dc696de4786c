"""The verdict bench/explain_claims.py gives on "VGG's maps are more concentrated"."""
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


def test_higher_mass_and_lower_entropy_for_vgg_holds():
    """Check that VGG with more top-10% mass and less entropy on correct colour maps holds."""
    verdict = concentration_verdict(TRAINED, {"vgg19": _rows(0.3, 0.9),
                                              "resnet152v2": _rows(0.2, 0.95)})
    assert verdict.startswith("holds: top-10% mass vgg19 0.300 vs resnet152v2 0.200")


def test_resnet_more_concentrated_does_not_hold():
    """Check that ResNet with more mass and less entropy makes the claim not hold."""
    verdict = concentration_verdict(TRAINED, {"vgg19": _rows(0.2, 0.95),
                                              "resnet152v2": _rows(0.3, 0.9)})
    assert verdict.startswith("does not hold")


def test_measures_that_disagree_give_mixed():
    """Check that more mass but also more entropy for VGG is reported as mixed."""
    verdict = concentration_verdict(TRAINED, {"vgg19": _rows(0.3, 0.97),
                                              "resnet152v2": _rows(0.2, 0.95)})
    assert verdict.startswith("mixed")

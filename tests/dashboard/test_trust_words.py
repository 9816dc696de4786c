"""Trust sentences: a difference only when its interval excludes 0, every number with n."""
from __future__ import annotations

from dashboard import trust_words

GROUPS = {"M": {"accuracy": 0.75, "n": 400, "ci95": [0.71, 0.79]},
          "F": {"accuracy": 0.738, "n": 390, "ci95": [0.69, 0.78]}}


def test_a_gap_within_noise_reads_about_as_accurate():
    """Check the issue's example: 'about as accurate for women as for men (difference 1.2
    points, within noise)', with both n."""
    gap = {"gap": 0.012, "ci95": [-0.05, 0.07], "worst": "F", "best": "M"}
    text = trust_words.gap_sentence("gender", gap, GROUPS)
    assert text.startswith("It is about as accurate for women as for men (difference 1.2 "
                           "points, within noise")
    assert "n=390" in text and "n=400" in text


def test_a_real_gap_names_the_less_accurate_group_with_intervals():
    """Check that a gap whose interval excludes 0 says 'less accurate' with ± and n."""
    groups = {"Asian": {"accuracy": 0.6, "n": 120, "ci95": [0.52, 0.69]},
              "White": {"accuracy": 0.8, "n": 400, "ci95": [0.76, 0.84]}}
    gap = {"gap": 0.2, "ci95": [0.1, 0.29], "worst": "Asian", "best": "White"}
    text = trust_words.gap_sentence("race", gap, groups)
    assert text.startswith("It is less accurate for Asian than for White: 60% ± 8 (n=120)")
    assert "20.0 points (95% interval 10.0 to 29.0)" in text
    groups["Asian"]["balanced_accuracy"], groups["White"]["balanced_accuracy"] = 0.7, 0.75
    assert trust_words.gap_sentence("race", gap, groups).endswith(
        "averaged over age groups they are at 70% and 75%.")


def test_the_weakest_age_group_is_less_accurate_only_when_clearly_below():
    """Check 'less accurate for people aged 80-99: 55% ± 9 (n=43)' when its interval lies
    below the overall accuracy, and 'no age group is clearly less accurate' otherwise."""
    m = {"accuracy": 0.76, "accuracy_ci95": [0.73, 0.79], "n": 784,
         "per_class_accuracy": [0.9, 0.8, 0.7, 0.7, 0.55],
         "per_class_ci95": [None, None, None, None, [0.46, 0.64]],
         "per_class_n": [180, 180, 180, 201, 43]}
    labels = ["1-19", "20-39", "40-59", "60-79", "80-99"]
    assert trust_words.age_sentence(m, labels) == (
        "It is less accurate for people aged 80-99: 55% ± 9 (n=43), against 76% ± 3 over "
        "all 784 test faces.")
    m["per_class_ci95"][4] = [0.4, 0.8]
    assert trust_words.age_sentence(m, labels).startswith("No age group is clearly less")


def test_how_sure_quotes_the_ninety_percent_threshold_and_the_ece_with_n():
    """Check the 'how sure' sentence: how often it is right when 90% sure (with n), and
    the ECE before and after the temperature."""
    m = {"ece": 0.081, "ece_calibrated": 0.032, "temperature": 1.42, "n": 784,
         "calibration": {"n": 784, "coverage": [{"threshold": 0.9, "n": 312,
                                                 "coverage": 0.4, "accuracy": 0.95}]}}
    text = trust_words.how_sure_sentence(m)
    assert text.startswith("When it is 90% sure or more, it is right 95% of the time "
                           "(n=312 of 784 test faces).")
    assert "off by 8.1 points on average, 3.2 after" in text and "temperature 1.42" in text
    assert "taken at its word" in text


def test_compare_says_better_only_when_the_interval_excludes_zero():
    """Check 'better' for a verdict of better, and 'no clear difference' otherwise."""
    pair = {"accuracy_diff": 0.031, "ci95": [0.01, 0.052], "p_value": 0.004, "n": 784,
            "verdict": "better"}
    assert trust_words.compare_sentence("#5", "#3", pair).startswith("#5 is better than #3 "
                                                                     "(+3.1 points")
    unclear = {**pair, "ci95": [-0.01, 0.02], "verdict": "no clear difference"}
    text = trust_words.compare_sentence("#5", "#3", unclear)
    assert text.startswith("No clear difference between #5 and #3") and "n = 784" in text

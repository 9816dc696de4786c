"""Results in plain words."""
from __future__ import annotations

from dashboard import plain_words


def test_headline_for_the_paper_ensemble():
    """Check the paper's ensemble reads '70 in 100 ... 20-year ...; 98 in 100 ...'."""
    text = plain_words.headline(0.7027, 0.9808, 20)
    assert text.startswith("70 in 100 faces are put in the right 20-year age group; 98 in 100")


def test_every_figure_is_a_whole_number_of_100():
    """Check that 75.9% reads '76 in 100', never '8 in 10'."""
    assert plain_words.headline(0.759, None, None).startswith("76 in 100 faces")


def test_group_width_of_the_paper_scheme_is_20():
    """Check that 1-19, 20-39, ... count as 20-year groups despite the 19-year first one."""
    assert plain_words.group_width([1, 20, 40, 60, 80, 100]) == 20


def test_group_width_of_uneven_groups_is_none():
    """Check that groups of many widths have no single width."""
    assert plain_words.group_width([0, 3, 10, 30, 70]) is None


def test_weakest_pair_is_largest_off_diagonal_pair():
    """Check that the pair with the most mistakes both ways is chosen."""
    matrix = [[10, 3, 0], [2, 10, 4], [0, 5, 10]]
    i, j, mixed, _ = plain_words.weakest_pair(matrix)
    assert (i, j, mixed) == (1, 2, 9.0)


def test_perfect_matrix_has_no_weak_pair():
    """Check that a diagonal matrix gives no weak-spot sentence."""
    assert plain_words.weakest_pair_sentence([[3, 0], [0, 3]], ["a", "b"]) is None


def test_greyscale_sentence_says_harder_when_lower():
    """Check that lower greyscale accuracy is called harder, with both numbers."""
    text = plain_words.greyscale_sentence(0.70, 0.55)
    assert "harder" in text and "55 in 100" in text and "70 in 100" in text


def test_example_sentence_of_a_mistake_names_both_groups():
    """Check that a misclassified example names the true and the predicted group."""
    item = {"true": 1, "pred": 2, "probs": [0, 0.3, 0.6, 0.1, 0], "colour": "grey", "model": "vgg"}
    text = plain_words.example_sentence(item, ["1-19", "20-39", "40-59", "60-79", "80-99"])
    assert text.startswith("A black-and-white photo of someone aged 20-39, taken for 40-59 (60% sure)")


def test_mix_sentences_give_both_figures_with_their_n():
    """Check that the as-trained and the population figures each come as 'N in 100' with
    the number of test faces."""
    as_trained = {"accuracy": 0.761, "n": 782}
    corrected = {"population_accuracy": 0.807, "as_trained_population_accuracy": 0.76}
    first, second = plain_words.mix_sentences(as_trained, corrected)
    assert first.startswith("As trained (balanced classes): 76 in 100 faces") and "782" in first
    assert second.startswith("For the population's age mix: 81 in 100 faces")
    assert "against 76 in 100 without the correction" in second and "782" in second


def test_mix_sentences_without_a_prior_evaluation_give_the_as_trained_one_only():
    """Check that without a target-prior evaluation only the as-trained sentence is given."""
    assert len(plain_words.mix_sentences({"accuracy": 0.7, "n": 10}, None)) == 1

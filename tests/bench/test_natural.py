"""Tests of the natural-distribution test-set sampler."""
import numpy as np

from bench.natural import source_class_counts


def test_source_counts_take_used_and_unused_rows_per_class(tmp_path):
    """Check that the source's class counts add the manifest's and unused.csv's labels."""
    (tmp_path / "manifest.csv").write_text("label,split\n0,train\n2,test\n2,val\n")
    (tmp_path / "unused.csv").write_text("label\n0\n0\n1\n")
    (tmp_path / "scheme.json").write_text('{"edges": [1, 20, 40, 60]}')
    assert source_class_counts(tmp_path).tolist() == [3, 1, 2]


def test_natural_set_leaves_out_copies_and_faces_copied_into_train(tmp_path):
    """Check that oversampling's copies, and a test face with a copy in train, never enter
    the natural test set, and that copies do not count as source faces."""
    from bench.natural import natural_test_frame

    # rows 0-3 originals (train, test, test, test); 4 copies row 1 into train; 5 copies row 0 into test
    (tmp_path / "manifest.csv").write_text(
        "source_path,label,split,copy_of\na,0,train,-1\nb,0,test,-1\nc,0,test,-1\nd,0,test,-1\n"
        "b,0,train,1\na,0,test,0\n")
    (tmp_path / "unused.csv").write_text("source_path,label\ne,0\n")
    (tmp_path / "scheme.json").write_text('{"edges": [1, 20]}')
    counts = source_class_counts(tmp_path)
    frame = natural_test_frame(tmp_path, counts)
    assert counts.tolist() == [5] and sorted(frame["source_path"]) == ["c", "d", "e"]

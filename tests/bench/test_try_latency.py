"""Tests of bench/try_latency.py's numbers and table (nothing is timed here)."""
from bench.try_latency import portraits, render, summary


def _rows(times, faces=1):
    return [{"photo": f"{i}.jpg", "seconds": t, "faces": faces} for i, t in enumerate(times)]


def test_summary_takes_the_median_and_the_nearest_rank_p95():
    """Check that 20 times 0.1..2.0 s give median 1.05 s, p95 1.9 s (19th of 20) and a
    missed 1.5 s target."""
    s = summary(_rows([i / 10 for i in range(1, 21)]))
    assert (s["median_s"], s["p95_s"], s["max_s"], s["met"]) == (1.05, 1.9, 2.0, False)
    assert s["faces_found"] == 20


def test_the_table_has_a_row_per_condition_and_flags_a_miss():
    """Check that the Markdown says yes for a met target and **no** for a missed one."""
    result = {"idle": summary(_rows([0.5] * 20)), "under_load": summary(_rows([2.0] * 20))}
    table = render(result)
    assert "| idle | 0.50 s | 0.50 s |" in table and "| yes |" in table
    assert "while a `cpu` training job runs" in table and "| **no** |" in table


def test_portraits_take_every_fiftieth_photo(tmp_path):
    """Check that the photos are every 50th file in name order, then from an offset of 25."""
    folder = tmp_path / "fgnet" / "images"
    folder.mkdir(parents=True)
    for i in range(120):
        (folder / f"{i:03d}A01.JPG").write_bytes(b"x")
    names = [name for name, _ in portraits(tmp_path, 4)]
    assert names == ["000A01.JPG", "050A01.JPG", "100A01.JPG", "025A01.JPG"]

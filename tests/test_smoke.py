from async_trace_tui.loading import default_sample, load


def test_bundled_sample_loads():
    index, report = load([str(default_sample())])
    assert len(index) == 49
    assert len(index.trace_ids) == 7
    assert not report.skipped

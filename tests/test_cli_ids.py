"""Headless ids and defaults (SPEC §5, issue 8 item 17): any unique prefix of 4+ hex digits
(or the TUI's `62f7…d454`) names a trace or span, an ambiguous one is a usage error listing
the candidates; with no --trace/--span the trace with the most async links opens, and stderr
says which; --depth marks the async calls it did not follow; contradictory outputs are usage
errors."""

from __future__ import annotations

import json

import pytest
from sdk_data import doc_json, span_json

from async_trace_tui.cli import main

CONSUMER = "fe2fbd720bdcb5d3"  # the sample's batch consumer (payments-worker)
PAYMENTS = "060bed79214119cf6d84cc7956364be9"  # its trace: 5 links out, 1 in
T1, T2 = "abcd" + "0" * 27 + "1", "abcd" + "0" * 27 + "2"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """Two traces and two spans whose ids share their first 15 hex digits."""
    path = tmp_path_factory.mktemp("ids") / "twins.json"
    path.write_text(json.dumps(doc_json(
        span_json("abcd00000000000a", "first op", T1),
        span_json("abcd00000000000b", "second op", T2),
        service="twin-svc")))
    return str(path)


@pytest.mark.parametrize("given", [CONSUMER[:4], CONSUMER[:5], CONSUMER[:11], CONSUMER.upper(),
                                   "fe2f…b5d3", "fe2f..b5d3"])
def test_a_unique_prefix_names_the_span(capsys, given):
    _, whole, _ = run(capsys, "--print", "--span", CONSUMER)
    code, out, err = run(capsys, "--print", "--span", given)
    assert code == 0, err
    assert out == whole


@pytest.mark.parametrize("given", [PAYMENTS[:4], PAYMENTS[:9], "060b…4be9"])
def test_a_unique_prefix_names_the_trace(capsys, given):
    code, out, err = run(capsys, "--json", "--trace", given)
    assert code == 0, err
    assert json.loads(out)["focus"]["trace_id"] == PAYMENTS


@pytest.mark.parametrize("flag, given, listed", [
    ("--span", "abcd", ["abcd00000000000a  twin-svc · first op",
                        "abcd00000000000b  twin-svc · second op"]),
    ("--span", "abcd00000000000", ["abcd00000000000a", "abcd00000000000b"]),
    ("--trace", "abcd0", [f"{T1}  twin-svc · first op", f"{T2}  twin-svc · second op"]),
])
def test_an_ambiguous_prefix_is_a_usage_error_listing_the_candidates(capsys, twins, flag, given,
                                                                    listed):
    code, out, err = run(capsys, twins, "--print", flag, given)
    assert code == 2 and out == ""
    assert "ambiguous" in err
    for line in listed:
        assert line in err


def test_one_more_digit_settles_it(capsys, twins):
    code, out, _ = run(capsys, twins, "--print", "--span", "abcd00000000000b")
    assert code == 0 and "second op" in out and "first op" not in out
    code, out, _ = run(capsys, twins, "--print", "--trace", "abcd…0002")
    assert code == 0 and "second op" in out


@pytest.mark.parametrize("argv, message", [
    (["--span", "fe2"], "at least its first 4 hex digits"),
    (["--span", "ffff"], "no span id matches 'ffff'"),
    (["--trace", PAYMENTS, "--span", "9f3c"], f"no span id matches '9f3c' in trace {PAYMENTS}"),
])
def test_ids_that_name_nothing_are_usage_errors(capsys, argv, message):
    code, _, err = run(capsys, "--print", *argv)
    assert code == 2 and message in err


def test_print_without_an_id_opens_the_trace_with_the_most_async_links(capsys):
    """Not the earliest (a front-end trace with 1 link): the batch consumer's trace (6)."""
    code, out, err = run(capsys, "--print")
    assert code == 0
    assert (f"showing trace {PAYMENTS} (payments-worker · orders process), the one with the "
            f"most async links (6)") in err
    assert out.splitlines()[0].startswith("▣ trace 060b…4be9  payments-worker · orders process")
    code, out, err = run(capsys, "--json")
    assert json.loads(out)["focus"]["trace_id"] == PAYMENTS and PAYMENTS in err


def test_without_links_the_biggest_trace_opens(capsys, twins, write):
    path = write("t.json", doc_json(span_json("00000000000000a1", "small", T1),
                                    span_json("00000000000000b1", "big", T2),
                                    span_json("00000000000000b2", "child", T2,
                                              parent="00000000000000b1")))
    code, out, err = run(capsys, path, "--print")
    assert code == 0 and "big" in out.splitlines()[0]
    assert "no trace has async links: the biggest (2 spans)" in err


def test_depth_marks_the_async_calls_it_did_not_follow(capsys):
    code, out, _ = run(capsys, "--print", "--depth", "0", "--span", CONSUMER)
    assert code == 0
    assert "◀┄… +5 async calls past --depth 0" in out  # the five producers it links to
    assert "┄▶… +1 async call past --depth 0" in out  # the e-mail consumer of email publish
    assert "║" not in out  # nothing across a link is shown
    code, out, _ = run(capsys, "--json", "--depth", "0", "--span", CONSUMER)
    cut = []
    stack = [json.loads(out)["root"]]
    while stack:
        node = stack.pop()
        stack.extend(node["children"])
        if node["kind"] == "more":
            cut.append((node["edge"], node["hidden"], node["operation"]))
    assert sorted(cut) == [("async-down", 1, "+1 async call past --depth 0"),
                           ("async-up", 5, "+5 async calls past --depth 0")]
    # one hop further, the capped list is a plain `more` again
    code, out, _ = run(capsys, "--print", "--depth", "1", "--group-by", "none", "--span", CONSUMER)
    assert "+2 more async calls" in out and "past --depth 1" in out


@pytest.mark.parametrize("argv, message", [
    (["--list", "--print"], "--list and --print are different outputs"),
    (["--list", "--map"], "--list and --map are different outputs"),
    (["--print", "--json"], "--print writes the view as text and --json as JSON"),
    (["--list", "--span", CONSUMER], "--list lists every trace"),
    (["--list", "--json", "--trace", PAYMENTS], "--list lists every trace"),
    (["--list", "--depth", "0"], "--depth shape the dependencies view, not --list"),
    (["--list", "--group-by", "service", "--hide-internal"],
     "--group-by, --hide-internal shape the dependencies view, not --list"),
    # The map and the flow ignore the view's options: asking for them is a mistake to say.
    (["--map", "--trace", PAYMENTS], "--map maps every span"),
    (["--map", "--json", "--depth", "1"], "--depth shape the dependencies view, not --map"),
    (["--flow", "--hide-internal"], "--hide-internal shape the dependencies view, not --flow"),
    (["--flow", "--op", "frontend GET /checkout", "--async-cap", "1"],
     "--async-cap shape the dependencies view, not --flow"),
    (["--print", "--by", "resource:host.name"], "--by groups the service map"),
])
def test_contradictory_options_are_usage_errors(capsys, argv, message):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "usage:" in err


def test_a_64_bit_trace_id_as_zipkin_writes_it_names_its_trace(capsys):
    """zipkin-lens's skew.json has the 64-bit trace id `1e223ff1f80f1c69` (as Zipkin's UI
    shows it); loaded left-padded to 32 digits, the id as the user knows it still names it."""
    from pathlib import Path

    path = str(Path(__file__).parent / "data" / "formats" / "zipkin__zipkin-lens__testdata__skew.json")
    padded = "0" * 16 + "1e223ff1f80f1c69"
    for output in ("--json", "--flow"):
        code, out, err = run(capsys, path, output, "--trace", "1e223ff1f80f1c69", *(
            ["--json"] if output == "--flow" else []))
        assert code == 0, err
        doc = json.loads(out)
        assert (doc["focus"] if output == "--json" else doc["start"])["trace_id"] == padded
    # The padded form and a real prefix of it keep working; a 16-digit id of nothing fails.
    code, out, _ = run(capsys, path, "--json", "--trace", padded[:20])
    assert code == 0 and json.loads(out)["focus"]["trace_id"] == padded
    code, _, err = run(capsys, path, "--json", "--trace", "2e223ff1f80f1c69")
    assert code == 2 and "no trace id matches '2e223ff1f80f1c69'" in err


def test_a_span_id_in_two_traces_is_a_usage_error_unless_the_trace_is_given(capsys, write):
    """Span ids are unique within a trace only (two exports of test data, replays): the
    id alone does not say which span is meant, so the command names both traces."""
    path = write("same.json", doc_json(span_json("00000000000000a1", "first op", T1),
                                       span_json("00000000000000a1", "second op", T2)))
    for output in (["--print"], ["--flow", "--json"]):
        code, out, err = run(capsys, path, *output, "--span", "00000000000000a1")
        assert code == 2 and out == ""
        assert "span id 00000000000000a1 is in 2 traces" in err and "give --trace too" in err
        assert f"trace {T1}  svc · first op" in err and f"trace {T2}  svc · second op" in err
    code, out, _ = run(capsys, path, "--print", "--trace", T2[:4] + "…" + T2[-4:],
                       "--span", "00000000000000a1")
    assert code == 0 and "second op" in out and "first op" not in out

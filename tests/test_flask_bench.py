"""The benchmark's own logic (the timed run itself is `make bench-flask`, not a test): the wrk script,
the ratios and targets it reports, its plot and table."""

from __future__ import annotations

import re

import pytest

from nowwhat.errors import NowWhatError
from nowwhat.flask_api import bench


def row(server, concurrency, rps, p99, errors=0):
    return {
        "server": server,
        "concurrency": concurrency,
        "requests_per_s": rps,
        "p50_ms": p99 / 2,
        "p99_ms": p99,
        "errors": errors,
        "worker_rss_mib": [600.0],
    }


def test_wrk_script_quotes_every_review_as_ascii_json(tmp_path):
    texts = ['He said "great"', "crème brûlée 😍", "back\\slash ]] and ]=]"]
    script = bench.wrk_script(texts, tmp_path).read_text()
    assert script.isascii()
    bodies = re.findall(r"\[==\[(.*?)\]==\]", script)
    assert bodies == [
        '{"text": "He said \\"great\\""}',
        '{"text": "cr\\u00e8me br\\u00fbl\\u00e9e \\ud83d\\ude0d"}',
        '{"text": "back\\\\slash ]] and ]=]"}',
    ]


def test_wrk_script_refuses_a_review_it_cannot_quote(tmp_path):
    with pytest.raises(NowWhatError, match="cannot quote"):
        bench.wrk_script(["breaks ]==] the quoting"], tmp_path)


def test_summary_ratios_and_targets():
    rows = [row("naive", 1, 10, 120), row("naive", 8, 8, 1500), row("production", 1, 500, 4)]
    rows.append(row("production", 8, 900, 30))
    summary = bench.summarise(rows, {"calls_per_s": 1800})
    assert summary["speedup"] == {1: 50.0, 8: 112.5}
    assert summary["production_share_of_ceiling"] == {1: 0.28, 8: 0.5}
    assert summary["targets_met"] == {"speedup_at_8": True, "production_p99_at_8": True, "no_errors": True}


def test_summary_reports_missed_targets():
    rows = [row("naive", 8, 100, 90), row("production", 8, 900, 75, errors=3)]
    summary = bench.summarise(rows, {"calls_per_s": 1000})
    assert summary["targets_met"] == {"speedup_at_8": False, "production_p99_at_8": False, "no_errors": False}


def test_a_naive_run_without_answers_has_no_speedup_rather_than_a_crash():
    summary = bench.summarise(
        [row("naive", 8, 0, 0), row("production", 8, 900, 20)], {"calls_per_s": 1e3}
    )
    assert summary["speedup"] == {8: None} and summary["targets_met"]["speedup_at_8"] is False


def test_plot_and_table_show_both_servers_and_the_ceiling():
    rows = [row(s, c, r, p) for s, c, r, p in [("naive", 1, 10, 100), ("naive", 8, 9, 900)]]
    rows += [row("production", 1, 500, 3), row("production", 8, 1000, 20)]
    result = {"rows": rows, "ceiling": {"calls_per_s": 1800}}
    figure = bench.plot(result)
    throughput = figure.axes[0]
    assert len(throughput.lines) == 3  # naive, production, the ceiling line
    assert throughput.lines[2].get_ydata()[0] == 1800
    table = bench.table(result).splitlines()
    assert len(table) == 2 + len(rows) and "| production | 8 | 1,000 |" in table[-1]

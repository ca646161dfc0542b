"""Every benchmark table in a demo README is generated from the run recorded beside it
(`make bench-<demo> RECORD=1` writes demos/<demo>/benchmark.json, MLServer's batching.json, and rewrites
the README's section), never typed: the section in the README is exactly what the recorded figures give."""

from __future__ import annotations

import json

import pytest

from nowwhat import artifacts
from nowwhat.errors import NowWhatError
from nowwhat.flask_api import bench as flask_bench
from nowwhat.open_inference import bench as mlserver_bench
from nowwhat.tf_serving import bench as tf_serving_bench
from nowwhat.tfjs import bench as tfjs_bench
from nowwhat.tflite import bench as tflite_bench

BENCHMARKS = {
    "flask": flask_bench, "mlserver": mlserver_bench, "tf-serving": tf_serving_bench, "tfjs": tfjs_bench,
    "tflite": tflite_bench,
}


@pytest.mark.parametrize("demo", sorted(BENCHMARKS))
def test_the_demo_readme_shows_the_recorded_run(demo):
    module = BENCHMARKS[demo]
    recorded = json.loads(module.RECORDED.read_text())
    section = module.readme_section(recorded)
    readme = (module.RECORDED.parent / "README.md").read_text()
    assert section in readme and readme.count(module.BEGIN) == 1
    assert module.table(recorded) in section
    assert recorded["environment"]["cpus"] >= 1


def test_record_rewrites_only_its_section(tmp_path):
    readme, recorded = tmp_path / "README.md", tmp_path / "benchmark.json"
    readme.write_text("before\n<!-- b -->\nold figures\n<!-- e -->\nafter\n")
    section = "<!-- b -->\nnew\n<!-- e -->"
    artifacts.record({"rows": []}, recorded, readme, "<!-- b -->", "<!-- e -->", section)
    assert readme.read_text() == "before\n<!-- b -->\nnew\n<!-- e -->\nafter\n"
    assert json.loads(recorded.read_text()) == {"rows": []}
    readme.write_text("no section here")
    with pytest.raises(NowWhatError, match="no generated section"):
        artifacts.record({}, recorded, readme, "<!-- b -->", "<!-- e -->", "x")

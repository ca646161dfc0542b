"""images/: each diagram is rendered from its source; the decision tree agrees with nowwhat.compare.decide."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess

import pytest

from nowwhat.compare.decide import QUESTIONS, recommend
from nowwhat.errors import NowWhatError
from nowwhat.workshop import diagrams

NEEDED = {"lifecycle", "serving-alone", "serving-docker", "serving-kubernetes", "decision-tree"}


def test_the_talk_has_every_diagram_it_needs():
    assert {s.stem for s in diagrams.sources()} >= NEEDED


def test_every_committed_svg_matches_its_source():
    assert diagrams.out_of_step() == [], "a diagram is out of step with its source: run `make images`"


def test_an_edited_source_or_a_hand_made_svg_is_caught(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(diagrams.SOURCES, src)
    shutil.copytree(diagrams.IMAGES, out, ignore=shutil.ignore_patterns("src"))
    assert diagrams.out_of_step(src, out) == []
    with (src / "lifecycle.dot").open("a") as f:
        f.write("// an edit\n")
    (out / "extra.svg").write_text("<svg/>")
    (out / "serving-docker.svg").unlink()
    assert diagrams.out_of_step(src, out) == [
        "lifecycle.svg: not rendered from the current lifecycle.dot",
        "serving-docker.svg: missing",
        "extra.svg: has no source in " + str(src),
    ]


_PARTS = re.compile(r"<!-- nowwhat\.diagrams .*? -->|<title>.*?</title>|<text[^>]*>.*?</text>")
_PLACEMENT = re.compile(r' (?:x|y|font-size|font-family|text-anchor)="[^"]*"')


def _content(svg: str) -> list[str]:
    """What a diagram says — its stamp, node and edge titles, every text — without the coordinates,
    which depend on the fonts installed where it was rendered."""
    return [_PLACEMENT.sub("", part) for part in _PARTS.findall(svg)]


def test_rendering_again_says_the_same_as_the_committed_svgs(tmp_path):
    assert diagrams.main(["--out", str(tmp_path)]) == 0
    for source in diagrams.sources():
        name = f"{source.stem}.svg"
        again, committed = (tmp_path / name).read_text(), (diagrams.IMAGES / name).read_text()
        assert _content(again) == _content(committed), name
        assert len(_content(committed)) > 10, name


def test_a_broken_source_is_a_one_line_error(tmp_path):
    broken = tmp_path / "broken.dot"
    broken.write_text("digraph { a -> }")
    with pytest.raises(NowWhatError, match=r"graphviz could not render broken\.dot"):
        diagrams.render(broken, tmp_path)


def test_missing_graphviz_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert diagrams.main(["--out", "/nonexistent"]) == 2
    assert "make setup-slides" in capsys.readouterr().err


def _decision_graph() -> tuple[str, dict]:
    """The decision tree as parsed by graphviz itself: (root node, {node: {"yes"|"no": node}})."""
    source = diagrams.SOURCES / "decision-tree.dot"
    layout = json.loads(
        subprocess.run([diagrams.graphviz(), "-Tjson0", str(source)], capture_output=True, check=True).stdout
    )
    names = {obj["_gvid"]: obj["name"] for obj in layout["objects"] if "nodes" not in obj}  # not subgraphs
    graph = {name: {} for name in names.values()}
    for edge in layout["edges"]:
        graph[names[edge["tail"]]][edge["label"]] = names[edge["head"]]
    targets = {head for answers in graph.values() for head in answers.values()}
    (root,) = [name for name in graph if name not in targets]
    return root, graph


@pytest.mark.parametrize("answers", list(itertools.product([True, False], repeat=4)), ids=str)
def test_the_decision_tree_diagram_agrees_with_the_decision_guide(answers):
    given = dict(zip(QUESTIONS, answers, strict=True))
    node, graph = _decision_graph()
    asked = []
    while node.startswith("q_"):
        question = node.split("_")[1]
        asked.append(question)
        node = graph[node]["yes" if given[question] else "no"]
    assert node == f"c_{recommend(**given).runtime}", f"asked {asked}"
    assert len(asked) == len(set(asked)), "a path asks the same question twice"

"""Paper assembly: blueprint met, reproducible, keys only in hidden tests and the manifest."""
import json

import nbformat
import pytest

from shequ import bank, paper


@pytest.fixture(scope="module")
def items():
    return bank.load_ok()


def test_same_blueprint_and_seed_give_byte_identical_files(tmp_path, items):
    a, b = tmp_path / "a", tmp_path / "b"
    paper.build("basics", "r1", bank_items=items, out_root=a)
    paper.build("basics", "r1", bank_items=items, out_root=b)
    for rel in ("source/basics-r1/basics-r1.ipynb", "manifests/basics-r1.json"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()


def test_paper_meets_section_counts_and_the_skill_level_grid(tmp_path, items):
    bp = paper.load_blueprint("basics")
    (m,) = paper.build("basics", "r1", bank_items=items, out_root=tmp_path)
    by_type = {}
    for c in m["cells"]:
        by_type[c["type"]] = by_type.get(c["type"], 0) + 1
    assert by_type == {s.type: s.count for s in bp.sections}
    got = {}
    for c in m["cells"]:
        got[(c["skills"][0], c["level"])] = got.get((c["skills"][0], c["level"]), 0) + 1
    for skill, levels in bp.grid.items():
        for level, n in levels.items():
            assert got.get((skill, level), 0) >= n
    assert len({c["item"] for c in m["cells"]}) == len(m["cells"])


def test_a_cell_the_bank_cannot_fill_is_named(tmp_path, items):
    (tmp_path / "p.yaml").write_text(
        "title: t\nseed: 1\nsections:\n  - {type: 单选, count: 5}\nblueprint:\n  network: {应用: 999}\n",
        encoding="utf-8")
    with pytest.raises(paper.PaperError, match="network × 应用：需要 999 题"):
        paper.build("p", bank_items=items, out_root=tmp_path, papers_dir=tmp_path)


def test_answer_cells_are_literals_and_keys_sit_in_hidden_tests(tmp_path, items):
    (m,) = paper.build("basics", "r1", bank_items=items, out_root=tmp_path)
    nb = nbformat.read(str(tmp_path / "source/basics-r1/basics-r1.ipynb"), 4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-test")]
    assert len(tests) == len(m["cells"])
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert all(c.source.startswith(f'{c.metadata["nbgrader"]["grade_id"]} = ""') for c in answers)
    assert json.loads((tmp_path / "manifests/basics-r1.json").read_text(encoding="utf-8"))["cells"][0]["key"]

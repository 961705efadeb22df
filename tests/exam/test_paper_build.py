"""Paper assembly: blueprint met, reproducible, keys only in hidden tests and the manifest."""
import json
import random

import nbformat
import pytest

from shequ import bank
from shequ.exam import paper


@pytest.fixture(scope="module")
def items():
    return bank.load_ok()


def test_same_blueprint_and_seed_give_byte_identical_files(tmp_path, items):
    a, b = tmp_path / "a", tmp_path / "b"
    paper.build("basics", "r1", forms=1, bank_items=items, out_root=a)
    paper.build("basics", "r1", forms=1, bank_items=items, out_root=b)
    for rel in ("source/basics-r1/basics-r1.ipynb", "manifests/basics-r1.json"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes()


def test_paper_meets_section_counts_and_the_skill_level_grid(tmp_path, items):
    bp = paper.load_blueprint("basics")
    (m,) = paper.build("basics", "r1", forms=1, bank_items=items, out_root=tmp_path)
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
    (m,) = paper.build("basics", "r1", forms=1, bank_items=items, out_root=tmp_path)
    nb = nbformat.read(str(tmp_path / "source/basics-r1/basics-r1.ipynb"), 4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-test")]
    assert len(tests) == len(m["cells"])
    assert all("### BEGIN HIDDEN TESTS" in c.source for c in tests)
    answers = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert all(c.source.startswith(f'{c.metadata["nbgrader"]["grade_id"]} = ""') for c in answers)
    assert json.loads((tmp_path / "manifests/basics-r1.json").read_text(encoding="utf-8"))["cells"][0]["key"]


def test_parallel_forms_hold_the_same_items_in_a_different_order(tmp_path, items):
    a, b = paper.build("basics", "r1", forms=2, bank_items=items, out_root=tmp_path)
    assert (a["assignment"], b["assignment"]) == ("basics-r1-a", "basics-r1-b")
    assert sorted(c["item"] for c in a["cells"]) == sorted(c["item"] for c in b["cells"])
    # cell for cell: same type and points at every position, so the blueprint holds on both
    assert [(c["type"], c["points"]) for c in a["cells"]] == [(c["type"], c["points"]) for c in b["cells"]]
    assert [c["item"] for c in a["cells"]] != [c["item"] for c in b["cells"]]
    mean = lambda m: sum(c["facility"] for c in m["cells"]) / len(m["cells"])  # noqa: E731
    assert abs(mean(a) - mean(b)) < 1e-9
    assert any(c["perm"] != "ABCD"[:len(c["perm"])] for c in b["cells"] if c["type"] == "单选")


def test_shuffled_options_keep_the_key_pointing_at_the_right_text(tmp_path, items):
    by_id = {it.id: it for it in items}
    (_, b) = paper.build("basics", "r1", forms=2, bank_items=items, out_root=tmp_path)
    for c in b["cells"]:
        if c["type"] in ("单选", "多选"):
            it = by_id[c["item"]]
            shown = {chr(65 + k): it.options[orig] for k, orig in enumerate(c["perm"])}
            assert sorted(shown[x] for x in c["key"]) == sorted(it.options[x] for x in it.answer)


def test_forms_alternate_within_each_community_reproducibly():
    workers = [{"worker_id": f"w{i:02d}", "community": "甲" if i < 5 else "乙"} for i in range(9)]
    got = paper.assign_forms(workers, 2)
    assert got == paper.assign_forms(list(reversed(workers)), 2)
    assert [got[f"w{i:02d}"] for i in range(5)] == [0, 1, 0, 1, 0]
    assert [got[f"w{i:02d}"] for i in range(5, 9)] == [0, 1, 0, 1]


def enemy_pairs(chosen):
    ids = {it.id for it in chosen}
    return sorted((it.id, e) for it in chosen for e in it.enemies if e in ids)


@pytest.mark.parametrize("name", ["basics", "annual"])
def test_enemy_items_never_share_a_paper_even_after_facility_tuning(name):
    # every item an enemy of two others of its own type, skill and level: the very items the
    # grid and the facility tuning would swap in for each other
    items = bank.load_ok()
    rng = random.Random(1)
    groups = {}
    for it in items:
        groups.setdefault((it.type, it.skills[0], it.level), []).append(it)
    for group in groups.values():
        for it in group:
            others = [o.id for o in group if o.id != it.id]
            it.enemies = rng.sample(others, min(2, len(others)))
    for it in items:  # symmetric, as bank.load makes them
        for e in it.enemies:
            other = next(o for o in items if o.id == e)
            if it.id not in other.enemies:
                other.enemies.append(it.id)
    bp = paper.load_blueprint(name)
    plain = paper.select(bp, bank.load_ok())
    assert enemy_pairs(plain) == []  # the committed bank's own enemies are kept apart too
    chosen = paper.select(bp, items)
    assert enemy_pairs(chosen) == []
    assert {it.id for it in chosen} != {it.id for it in plain}  # the enemies changed the choice


def test_a_section_that_only_enemies_could_fill_is_refused(tmp_path):
    items = [it for it in bank.load_ok() if it.type == "判断"][:3]
    items[0].enemies, items[1].enemies = [items[1].id], [items[0].id]
    (tmp_path / "p.yaml").write_text(
        "title: 测试\nsections:\n  - {type: 判断, count: 3, points: 1}\nseed: 1\n", encoding="utf-8")
    with pytest.raises(paper.PaperError, match="互斥题"):
        paper.select(paper.load_blueprint("p", tmp_path), items)
    items[1].enemies = items[0].enemies = []
    assert len(paper.select(paper.load_blueprint("p", tmp_path), items)) == 3

"""The suite's promise to leave the project as it found it (root conftest.py compares these
snapshots at the end of every run and fails the run on a difference): the snapshot sees a
changed tracked file, a new untracked file and anything written into build/report/."""
import subprocess

from shequ.tree import changes, snapshot


def test_a_snapshot_sees_every_kind_of_change(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("build/\n", encoding="utf-8")
    (tmp_path / "tracked.txt").write_text("a", encoding="utf-8")
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x"],
                   check=True)
    (tmp_path / "build" / "report").mkdir(parents=True)
    (tmp_path / "build" / "report" / "index.html").write_text("demo", encoding="utf-8")
    before = snapshot(tmp_path)
    assert changes(before, snapshot(tmp_path)) == []
    (tmp_path / "tracked.txt").write_text("b", encoding="utf-8")
    (tmp_path / "new.txt").write_text("c", encoding="utf-8")
    (tmp_path / "build" / "report" / "index.html").write_text("overwritten by a test", encoding="utf-8")
    (tmp_path / "build" / "elsewhere.txt").write_text("ignored and not watched", encoding="utf-8")
    said = changes(before, snapshot(tmp_path))
    assert said == ["改动 build/report/index.html", "新增 git: new.txt", "新增 git: tracked.txt"]

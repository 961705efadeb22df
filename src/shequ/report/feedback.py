"""Feedback a worker can learn from: per item their answer, the correct answer, the 解析,
and their score by skill. Written where nbgrader keeps feedback (grading/feedback/<worker>/
<assignment>/<assignment>.html), so `nbgrader release_feedback` hands it out only when the
trainer releases it. Never any test code (nbgrader's own feedback shows hidden tests)."""
from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pandas as pd

from .. import bank
from ..exam import manifest as manifests
from ..grading import gradebook
from ..grading.course import GradingError, course_root, nbgrader
from ..grading.literal import INVALID, literal_answer
from .html import page

KIND_KEY = {"判断": lambda k: k, "填空": lambda k: "；".join(v[0] for v in k)}


def _typed_answers(nb_path: Path) -> dict[str, object]:
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    out = {}
    for c in nb.get("cells", []):
        meta = c.get("metadata", {}).get("nbgrader", {})
        if meta.get("solution"):
            src = c.get("source", "")
            src = "".join(src) if isinstance(src, list) else src
            gid = meta.get("grade_id", "")
            out[gid] = src.strip() if c.get("cell_type") == "markdown" else literal_answer(src, gid)
    return out


def _shown(value) -> str:
    if value is INVALID:
        return "（无效：作答格里写了代码或改动了格式，不计分）"
    if value is None or (isinstance(value, str) and not value.strip()):
        return "（未作答）"
    return str(value)


def worker_page(manifest: dict, worker: str, scores: dict[str, float | None],
                answers: dict[str, object], skill_names: dict[str, str]) -> str:
    rows, by_skill = [], {}
    total = got = 0.0
    for c in manifest["cells"]:
        q = c["cell"]
        s = scores.get(f"{q}-test", scores.get(q))
        total += c["points"]
        got += s or 0.0
        for sk in c["skills"]:
            a = by_skill.setdefault(sk, [0.0, 0.0])
            a[0] += s or 0.0
            a[1] += c["points"]
        key = c.get("answer") if c["type"] == "简答" else KIND_KEY.get(c["type"], str)(c["key"])
        opts = "".join(f"<br>{chr(65 + k)}. {html.escape(o)}" for k, o in enumerate(c.get("options", [])))
        score = "待阅卷" if s is None else f"{s:g}"
        rows.append(
            f"<tr><td>{int(q[1:])}</td><td>{c['type']}</td><td class='l'>{html.escape(c.get('stem', ''))}{opts}</td>"
            f"<td>{html.escape(_shown(answers.get(q)))}</td><td>{html.escape(str(key))}</td>"
            f"<td>{score} / {c['points']:g}</td>"
            f"<td class='l'>{html.escape(c.get('explanation', ''))}"
            f"<div class='src'>出处：{html.escape(c.get('source', ''))}</div></td></tr>")
    skills = "".join(
        f"<tr><td class='l'>{html.escape(skill_names.get(sk, sk))}</td><td>{a[0]:g} / {a[1]:g}</td>"
        f"<td>{100 * a[0] / a[1]:.0f}%</td></tr>" for sk, a in sorted(by_skill.items()))
    passed = got >= manifest["pass_mark"] * manifest["max_score"] / 100 if manifest["max_score"] else False
    body = f"""
<h1>{html.escape(manifest['title'])} · 成绩反馈</h1>
<p>工号 {html.escape(worker)} · {html.escape(manifest.get('round', ''))} {html.escape(manifest.get('form', ''))}卷 ·
总分 <b>{got:g} / {total:g}</b>（{'及格' if passed else '未及格'}，及格线为满分的 {manifest['pass_mark']:g}%）</p>
<h2>各知识点得分</h2>
<table><tr><th>知识点</th><th>得分</th><th>得分率</th></tr>{skills}</table>
<h2>逐题对照</h2>
<table><tr><th>题</th><th>题型</th><th>题目</th><th>你的答案</th><th>正确答案</th><th>得分</th><th>解析</th></tr>
{''.join(rows)}</table>
<p class="note">多选题：全部选对得满分，少选且所选都对得一半，有错选不得分。简答题由阅卷老师评分。</p>"""
    return page(f"成绩反馈 {worker}", body)


def generate(assignment: str, root: Path | None = None, db_url: str | None = None) -> dict[str, list[str]]:
    """Write every graded worker's feedback page; returns {'written': [...], 'offline': [...]}
    (offline: submitted without the exchange, so release by hand)."""
    root = root or course_root()
    if not gradebook.is_exam(assignment, root, db_url):
        raise GradingError(f"{assignment} 不是试卷：成绩反馈只给试卷（练习的结果见 formgrader）。")
    manifest = manifests.exam_manifest(assignment, root)
    grades = gradebook.read_grades(db_url or gradebook.db_url(root))
    grades = grades[grades["assessment"] == assignment]
    grades = grades.assign(score=gradebook.final_score(grades))
    names = bank.load_skills()
    out: dict[str, list[str]] = {"written": [], "offline": []}
    for worker, g in grades.groupby("worker_id"):
        graded = root / "autograded" / worker / assignment / f"{assignment}.ipynb"
        if not graded.exists():
            continue
        scores = {r.cell: (None if pd.isna(r.score) else float(r.score)) for r in g.itertuples()}
        sub = root / "submitted" / worker / assignment
        # nbgrader can release feedback only for submissions that came through its exchange
        # (they carry a submission secret); the rest go to feedback-offline/ to hand out
        online = (sub / "submission_secret.txt").exists()
        dest = root / ("feedback" if online else "feedback-offline") / worker / assignment
        dest.mkdir(parents=True, exist_ok=True)
        (dest / f"{assignment}.html").write_text(
            worker_page(manifest, worker, scores, _typed_answers(graded), names), encoding="utf-8")
        for f in ("timestamp.txt", "submission_secret.txt"):
            if (sub / f).exists():
                shutil.copy(sub / f, dest / f)
        out["written" if online else "offline"].append(worker)
    return out


def release(assignment: str) -> None:
    """Hand feedback to workers through the exchange (the assignment list's feedback link)."""
    nbgrader("release_feedback", assignment)

"""`shequ demo`: from question bank to skills report, end to end, on the synthetic district."""
from __future__ import annotations

import shutil
import time

import nbformat
import pandas as pd

from . import bank, paths, results
from .exam import paper
from .grading import bulk, course, gradebook
from .grading import roster as rostermod
from .synth import simulate


class Steps:
    """Numbered progress lines with elapsed time (the long steps say how far they are)."""

    def __init__(self, total: int, out=print):
        self.total, self.n, self.t0, self.out = total, 0, time.monotonic(), out

    def __call__(self, msg: str) -> None:
        self.n += 1
        self.out(f"[{self.n}/{self.total}] {msg}（已用 {time.monotonic() - self.t0:.0f} 秒）", flush=True)

    def sub(self, msg: str) -> None:
        self.out(f"      {msg}", flush=True)

    def bar(self, label: str, every: float = 0.25):
        """A progress callback printing done/total and ETA at each quarter."""
        t0 = time.monotonic()
        marks = set()

        def progress(done: int, total: int) -> None:
            q = int(done / total / every)
            if q in marks and done != total:
                return
            marks.add(q)
            el = time.monotonic() - t0
            eta = el / done * (total - done)
            self.out(f"      {label} [{'#' * int(20 * done / total):<20}] {done}/{total}，"
                     f"预计还需 {eta:.0f} 秒", flush=True)
        return progress


def reset_course() -> None:
    """Remove what earlier runs generated under grading/ (all of it is rebuilt)."""
    root = course.course_root()
    for d in course.COURSE_DIRS:
        shutil.rmtree(root / d, ignore_errors=True)
    for f in root.glob("gradebook.db*"):
        f.unlink()


def run(paper_name: str = "basics", workers: int | None = None,
        seed: int = 7, out=print) -> dict:
    """Build, release, simulate, grade and report; returns paths and counts."""
    step = Steps(7, out)
    step("检查题库")
    items = bank.load_ok()
    skills = list(bank.load_skills())
    bp = paper.load_blueprint(paper_name)
    rounds = [r["label"] for r in bp.rounds] or ["r1"]
    roster = rostermod.frame()
    rows = roster.to_dict("records")
    if workers:
        rows = rows[:workers]
    step.sub(f"题库 {len(items)} 题；{len(rows)} 名社区工作者；{len(rounds)} 轮测评")

    step("组卷（A/B 卷）并用 nbgrader 生成、发布作业")
    reset_course()
    by_round: list[list[dict]] = []
    for r in rounds:
        by_round.append(paper.build(paper_name, r, bank_items=items))
    manifests = {m["assignment"]: m for forms in by_round for m in forms}
    course.generate_many(list(manifests), release=True)  # one nbgrader start-up for all forms
    for m in manifests.values():
        step.sub(f"{m['assignment']}（{m['form']}卷）：{len(m['cells'])} 题，满分 {m['max_score']:g}")

    step("模拟各轮作答并提交（合成数据）")
    gradebook.sync_students(rows)
    cohort = simulate.make_cohort(rows, skills, seed=seed)
    form_of = paper.assign_forms(rows, len(by_round[0]))
    intended = []
    for k, forms in enumerate(by_round):
        present = 0
        for f, m in enumerate(forms):
            name = m["assignment"]
            released = nbformat.read(str(course.course_root() / "release" / name / f"{name}.ipynb"), 4)
            date = m["date"] or "2026-01-01"
            takers = [w for w in rows if form_of[w["worker_id"]] == f]
            taken = simulate.take_paper(cohort, m, k, takers)
            for wid, ans in taken.items():
                course.submit(name, wid, simulate.fill_notebook(released, ans), f"{date} 10:00:00.000000 UTC")
                intended += [{"worker_id": wid, "assessment": name, "cell": q, "answer": a, "intended": s}
                             for q, (a, s) in ans.items()]
            present += len(taken)
        step.sub(f"{forms[0]['round']}：{present} 人参加，{len(rows) - present} 人缺考")

    step("评分（客观题不启动内核，直接写入 nbgrader 成绩库）")
    for name in manifests:
        t = time.monotonic()
        rep = bulk.grade_exam(name, progress=step.bar(name))
        step.sub(f"{name}：{len(rep.graded)} 份评分完成，用时 {time.monotonic() - t:.1f} 秒"
                 + (f"；{len(rep.failed)} 份无法评分：{rep.failed}" if rep.failed else ""))

    step("从成绩库提取结果表")
    table, files = results.rebuild(gradebook.db_url(), roster, manifests,
                                   course.course_root() / "autograded", paths.BUILD / "results")
    res_path = files["csv"]
    sim_path = paths.BUILD / "results" / "simulated-answers.csv"
    pd.DataFrame(intended).to_csv(sim_path, index=False, encoding="utf-8", lineterminator="\n")
    step.sub(f"{len(table)} 行 → {res_path.relative_to(paths.ROOT)}")

    step("生成成绩反馈（最近一轮）与报告")
    from .report import feedback
    for m in by_round[-1]:
        fb = feedback.generate(m["assignment"])
        step.sub(f"{m['assignment']}：{len(fb['offline']) + len(fb['written'])} 份反馈 → grading/feedback-offline/")
    from .report import render
    index = render.render(table, roster, trainer_workbook=paths.BUILD / "results" / "results.xlsx")

    step("完成")
    out(f"\n报告：{index}\n  用浏览器打开：file://{index}\n"
        "在 JupyterLab 中查看课程与阅卷：make lab（formgrader 在 Nbgrader → Formgrader 菜单）")
    return {"report": index, "results": res_path, "simulated": sim_path, "manifests": manifests}

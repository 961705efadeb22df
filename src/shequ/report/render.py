"""HTML report for coordinators, in build/report/:

- index.html — district summary with links (no names, no worker ids);
- overview.html — analytics/overview.ipynb (district);
- item-analysis.html — analytics/item-analysis.ipynb (questions and papers);
- streets/street-<code>.html — analytics/street-report.ipynb once per 街道, and
  streets/street-<code>.xlsx, that 街道's retraining workbook (names: give each 街道 its own);
- workbook.xlsx — every district view, one sheet each (Chinese headers);
- with `trainer_workbook`, the trainers' workbook (build/results/results.xlsx: every worker's
  得分率 per round with 工号, then the same views), from the same computation of the views.

A report follows one assessment series (a blueprint's rounds, under the blueprint's names,
`analytics.series`); other papers and course exercises have their own section on the index
page. Workers not on the roster are left out of every figure. The report is written to a
new folder beside the old one and swapped in when complete.

Notebooks are parameterised with papermill and rendered to HTML without code. Two
kernels share the notebook jobs (overview, every street report, item analysis) from one
queue; a kernel stays up between jobs, so the imports and the loaded table are paid once
per kernel, not once per 街道. Meanwhile a forked process computes the index page and the
workbook (and hands its item analysis to the item-analysis notebook). Scratch files (the
table the kernels read, executed notebooks) go to build/report-work/, not into the
report folder that is handed out.
"""
from __future__ import annotations

import html
import json
import re
import shutil
import threading
import time
from pathlib import Path

import pandas as pd

from .. import analytics, paths, results, sheets
from ..analytics import charts
from ..analytics import items as itemstats
from ..analytics import series as series_mod
from ..analytics import summary
from ..bank import load_skills
from . import html as tables
from . import workbook
from .html import page, table_html
from .notebooks import run_notebooks

NOTEBOOKS = [("overview", "区级总览"), ("item-analysis", "题目分析")]
WORKBOOK = "workbook.xlsx"


def work_dir(out: Path) -> Path:
    """Scratch folder beside the report (the results table the notebooks read, executed
    notebooks): kept out of the report folder, which is meant to be handed out."""
    return out.parent / f"{out.name}-work"


def render(df: pd.DataFrame, roster: pd.DataFrame | None, out_dir: Path | None = None,
           notebooks: bool = True, streets: list[str] | None = None, jobs: int = 2,
           timings: dict | None = None, trainer_workbook: Path | None = None,
           series: str | None = None, nested: bool = False) -> Path:
    """Write the report (index.html, charts, workbooks and, with `notebooks`, every rendered
    notebook) and return the path of index.html. The report follows one assessment series
    (`series`: a paper name; default the one with the most rounds); other papers and course
    exercises get their own section. Workers not on the roster are left out of every figure.
    `streets` limits the street reports rendered (default: all); `trainer_workbook`, when
    given, is where the trainers' workbook goes (views computed once for everything).
    Every other series gets a smaller report of its own (index page and workbooks) under
    series/<paper>/, linked from the index (`nested`: this is one of those).
    The report is built in a new folder and swapped in only when complete: a failed run
    leaves the previous report as it was."""
    t0 = time.monotonic()
    tm = timings if timings is not None else {}
    final = out_dir or paths.BUILD / "report"
    out = final.parent / f".{final.name}-new"
    work = work_dir(final)
    df = df if _is_categorised(df) else results.categorise(df.copy())
    scope = Scope.of(df, roster, series)   # an unknown series stops here, before anything is written
    scope.nested = nested
    shutil.rmtree(out, ignore_errors=True)
    img = out / "img"
    for d in (img, out / "streets"):
        d.mkdir(parents=True, exist_ok=True)
    sdf = scope.table
    all_streets = sorted(map(str, sdf["street"].unique()))
    slugs = analytics.street_slugs(all_streets, roster)
    chosen = all_streets if streets is None else [s for s in all_streets if s in set(streets)]
    notebooks = notebooks and not sdf.empty

    jobs_list = []
    analysis_path = work / "analysis.pkl"
    analysis_path.unlink(missing_ok=True)
    tables_path(analysis_path).unlink(missing_ok=True)
    if notebooks:
        work.mkdir(parents=True, exist_ok=True)
        data = results.save_feather(sdf, work / "results.feather")
        roster_path = work / "roster.csv"
        roster_path.unlink(missing_ok=True)
        if roster is not None:
            roster.to_csv(roster_path, index=False)
        tm["write_data"] = time.monotonic() - t0
        # overview and item analysis run last: by then the index process has saved what they read
        jobs_list = [("street-report", {"results_path": str(data), "roster_path": str(roster_path), "street": s},
                      out / "streets" / f"{slugs[s]}.html", f"街道报告：{s}") for s in chosen]
        jobs_list += [("overview", {"results_path": str(data), "roster_path": str(roster_path),
                                    "tables_path": str(tables_path(analysis_path))}, out / "overview.html", "区级总览")]
        jobs_list += [("item-analysis", {"results_path": str(data), "analysis_path": str(analysis_path)},
                       out / "item-analysis.html", "题目分析")]

    # The index page and workbook are computed in a forked process while the notebooks run:
    # a thread here would hold the GIL the notebook clients need to talk to their kernels.
    index_job = _IndexJob(scope, roster, out, img, slugs, chosen, notebooks, work,
                          analysis_path if jobs_list else None, trainer_workbook)
    if jobs_list:   # nothing to overlap with otherwise
        index_job.start()
    try:
        if jobs_list:
            run_notebooks(jobs_list, work, jobs, tm, ready={"item-analysis": index_job.wait_analysis,
                                                            "overview": index_job.wait_analysis})
            tm["notebooks"] = time.monotonic() - t0
        body = index_job.result(tm)
        (out / "index.html").write_text(page("明湖区社区工作者技能测评报告", body,
                                             back="../../index.html" if nested else None), encoding="utf-8")
        if not nested:
            for other in scope.found:
                if scope.series is not None and other.paper != scope.series.paper:
                    render(df, roster, out_dir=out / "series" / series_slug(other.paper), notebooks=False,
                           series=other.paper, nested=True)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)   # the previous report stays as it was
        raise
    finally:
        index_job.stop()
    _swap(out, final)
    tm["total"] = time.monotonic() - t0
    return final / "index.html"


def _swap(new: Path, final: Path) -> None:
    """Put the finished report in place of the old one (two renames: never half a report)."""
    old = final.parent / f".{final.name}-old"
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    new.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def series_slug(paper: str) -> str:
    """A folder name for a series' own report (paper names are ASCII file names already)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", paper) or "paper"


class Scope:
    """What one report covers: the series' rows (rounds under their blueprint names), the
    assessments outside it, and the ids left out because the roster does not know them."""

    def __init__(self, table, series, found, others, left_out):
        self.table, self.series, self.found, self.others, self.left_out = table, series, found, others, left_out
        self.nested = False   # a series' own report inside the main one

    @classmethod
    def of(cls, df: pd.DataFrame, roster: pd.DataFrame | None, paper: str | None = None) -> Scope:
        df, left_out = series_mod.known(df, roster)
        found = series_mod.all_series(df)
        s = series_mod.choose(df, paper, found)
        table = series_mod.series_table(df, s) if s is not None else df.iloc[0:0]
        return cls(table, s, found, series_mod.others(df, s), left_out)


class _IndexJob:
    """`_index_body` in a forked child process (Linux), else in this thread when asked for
    its result. The child saves the item analysis for the notebook kernel as soon as it has it."""

    def __init__(self, *args):
        self.args = args
        self.proc = None
        self.work = args[7]

    def start(self):
        import multiprocessing as mp

        # fork only a single-threaded process (a fork of a threaded one can deadlock);
        # otherwise the page is computed in this process when its result is asked for
        if "fork" not in mp.get_all_start_methods() or threading.active_count() > 1:
            return
        ctx = mp.get_context("fork")
        self.ready = ctx.Event()
        self.proc = ctx.Process(target=self._child, daemon=True)
        self.proc.start()

    def _child(self):
        import traceback

        out_file = self.work / "index-body.json"
        try:
            tm: dict = {}
            body = _index_body(*self.args[:7], tm=tm, analysis_to=self.args[8], analysis_ready=self.ready,
                               trainer_workbook=self.args[9])
            out_file.write_text(json.dumps({"body": body, "timings": tm}, ensure_ascii=False), encoding="utf-8")
        except BaseException:  # noqa: BLE001 - reported by the parent
            out_file.write_text(json.dumps({"error": traceback.format_exc()}), encoding="utf-8")
            self.ready.set()
            raise SystemExit(1)

    def wait_analysis(self) -> None:
        """Block until the analysis is saved (or the child is gone)."""
        if self.proc is None:
            return
        while not self.ready.wait(0.5):
            if not self.proc.is_alive():
                return

    def result(self, tm: dict) -> str:
        t = time.monotonic()
        if self.proc is None:
            c = time.thread_time()
            body = _index_body(*self.args[:7], tm=tm, analysis_to=None, analysis_ready=None,
                               trainer_workbook=self.args[9])
            tm["index_and_workbook_cpu"] = time.thread_time() - c
            return body
        self.proc.join()
        out_file = self.work / "index-body.json"
        data = json.loads(out_file.read_text(encoding="utf-8")) if out_file.exists() else {}
        out_file.unlink(missing_ok=True)
        if "body" not in data:
            raise RuntimeError("生成报告首页失败：\n" + data.get("error", f"子进程退出码 {self.proc.exitcode}"))
        tm.update(data["timings"])
        tm["index_wait"] = time.monotonic() - t
        return data["body"]

    def stop(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(5)


def _is_categorised(df: pd.DataFrame) -> bool:
    return all(isinstance(df[c].dtype, pd.CategoricalDtype) for c in results.CATEGORICAL if c in df.columns)


def _index_body(scope: Scope, roster, out: Path, img: Path, slugs: dict, chosen: list[str], notebooks: bool,
                tm: dict | None = None, analysis_to: Path | None = None, analysis_ready=None,
                trainer_workbook: Path | None = None) -> str:
    tm = tm if tm is not None else {}
    df = scope.table
    if df.empty:
        if analysis_ready is not None:
            analysis_ready.set()
        empty = analytics.workbook(df, roster, {})   # says there is nothing to sum up
        write_book({"说明": empty["说明"] + "\n" + analytics.DEFINITIONS}, out / WORKBOOK)
        if trainer_workbook is not None:
            write_book(empty, trainer_workbook)
        return (f"<h1>明湖区社区工作者技能测评报告</h1>{_synthetic_note()}"
                "<p>结果表中还没有带轮次的考试成绩，没有测评系列可以汇总。</p>"
                f"{_left_out_note(scope)}{_others_section(scope)}")
    c0 = time.thread_time()

    def lap(key):
        nonlocal c0
        tm[key] = time.thread_time() - c0
        c0 = time.thread_time()
    names = load_skills()
    ana = itemstats.analyse(df, itemstats.info_for(df))
    lap("cpu_item_analysis")
    T = analytics.district_tables(df, roster)  # the one computation of the district views
    if analysis_to is not None:  # the notebook kernels read both instead of computing them again
        itemstats.save_analysis(ana, df, analysis_to)
        analytics.save_tables(T, df, tables_path(analysis_to))
    if analysis_ready is not None:
        analysis_ready.set()
    lap("cpu_views")
    rounds = analytics.round_order(df)
    first, last = rounds[0], rounds[-1]
    summ = T["summary_street"]
    files = {
        "street_rounds": charts.street_rounds(summ, rounds, img / "street-rounds.png"),
        "progress": charts.skill_progress(T["skill_progress"], img / "skill-progress.png"),
        "hist": charts.score_hist(T["score_bins"], img / "score-hist.png"),
    }
    lap("cpu_index_charts")
    views = analytics.district_views(df, roster, ana, names, T)
    lap("cpu_views")
    write_book({"说明": analytics.DEFINITIONS, **views}, out / WORKBOOK)
    if trainer_workbook is not None:
        write_book(analytics.workbook(df, roster, views), trainer_workbook)
    workbook.write_street_books(df, roster, out / "streets", slugs, chosen)
    lap("cpu_xlsx")
    counts = analytics.retraining_counts(df)
    latest = summ[summ["round"] == last].set_index("street")
    part = T["participation_street"]
    part = part[part["round"] == last].set_index("street")
    winfo = analytics.worker_info(df)
    comm_count = winfo.groupby(winfo["street"].astype(str))["community"].nunique()
    rows = []
    for s in sorted(slugs):
        n_comm = int(comm_count.get(s, 0))
        link = f'<a href="streets/{slugs[s]}.html">{html.escape(s)}</a>' if notebooks and s in chosen else html.escape(s)
        book = f'<a href="streets/{slugs[s]}.xlsx">Excel</a>' if s in chosen else ""
        m = latest["mean"].get(s)
        rows.append(f"<tr><td>{link}</td><td>{n_comm}</td><td>{int(part['took'].get(s, 0))}/"
                    f"{int(part['roster_n'].get(s, 0))}</td>"
                    f"<td>{analytics.num(m)}（n={int(latest['n'].get(s, 0))}）</td>"
                    f"<td>{int(counts['需再培训人数'].get(s, 0)) if '需再培训人数' in counts else 0}</td>"
                    f"<td>{int(counts['需再培训或关注人数'].get(s, 0)) if '需再培训或关注人数' in counts else 0}</td>"
                    f"<td>{book}</td></tr>")
    street_table = ("<table class='data'><thead><tr><th>街道（点击打开街道报告）</th><th>社区数</th>"
                    f"<th>{html.escape(last)} 参加/应参加</th><th>{html.escape(last)} 平均得分率（n）</th>"
                    "<th>需再培训人数</th><th>需再培训或建议关注人数</th><th>再培训工作簿</th></tr></thead><tbody>"
                    + "".join(rows) + "</tbody></table>")
    papers = itemstats.labelled(ana.papers, itemstats.PAPER_LABELS)
    n_bad = int((ana.bank["severity"] == "应复查").sum()) if not ana.bank.empty else 0
    links = ""
    if notebooks:
        links = "".join(f'<a href="{name}.html">{title}</a>' for name, title in NOTEBOOKS)
    links += f'<a href="{WORKBOOK}">Excel 工作簿（每个视图一张表）</a>'
    heat = tables.heat_table(T["skill_matrix_street"], f"街道 × 技能得分率（{last}）",
                             n=T["sizes_street"], names=names, index_label="街道")
    facts = summary.district_facts(df, T, names)
    lap("cpu_index_rest")
    tm["index_cpu"] = sum(v for k, v in tm.items() if k.startswith("cpu_"))
    s = scope.series
    return f"""
<h1>明湖区社区工作者技能测评报告</h1>
<p class="series">测评系列：<b>{html.escape(s.title)}</b>（试卷 {html.escape(s.paper)}）</p>
{_synthetic_note()}
{summary.html(facts)}
<nav class="links">{links}</nav>
{_left_out_note(scope)}
<h2>本系列各轮</h2>
{_rounds_note(T['anchors'])}
{table_html(_rounds_table(s, T['district'], T['anchors']))}
<h2>街道报告</h2>
<p class="privacy">街道报告和再培训工作簿含工作者姓名、每人技能画像和再培训名单：只发给本街道负责人。</p>
{street_table}
<h2>各街道各轮平均得分率</h2>
<img src="img/{files['street_rounds'].name}" alt="各街道各轮平均得分率柱状图">
{table_html(analytics.wide(summ, ["street"], "mean", rounds, digits=1))}
<h2>得分分布</h2>
<img src="img/{files['hist'].name}" alt="各轮得分分布">
<h2>街道 × 技能（{html.escape(last)}）</h2>
{heat}
<h2>各技能各轮进步情况（{html.escape(first)} → {html.escape(last)}）</h2>
<img src="img/{files['progress'].name}" alt="各技能各轮得分率折线图">
{table_html(analytics.label(T['skill_gain'], skill_names=names))}
<h2>试卷与题目质量</h2>
<p>需要复查的题：<b>{n_bad}</b> 道（详见“题目分析”）。</p>
{table_html(papers)}
{_others_section(scope)}
"""


def _synthetic_note() -> str:
    return (f"""<p class="note">全部数据为合成数据（演示用），不对应任何真实人员。本页与“区级总览”“题目分析”、
Excel 工作簿均为区级视图，不显示姓名或工号；人数少于 {analytics.MIN_N} 人的组不显示数值（“—”）、不排名。
得分率 = 得分 / 满分（%）；每个平均数都附人数 n 和 95% 区间。</p>""")


def _left_out_note(scope: Scope) -> str:
    if not scope.left_out:
        return ""
    return (f'<p class="note">有 {len(scope.left_out)} 个工号不在花名册中，其成绩未计入本报告任何数字'
            "（工号清单见生成报告时的命令行输出；核对花名册后重新生成）。</p>")


def _rounds_table(s, district: pd.DataFrame, anchors: pd.DataFrame) -> pd.DataFrame:
    d = district.set_index("round")
    a = anchors.set_index("round")
    rows = [{"轮次": r.name, "标签": r.label, "日期": r.date, "人数n": int(d["n"].get(r.name, 0)),
             "整卷平均得分率(%)": d["mean"].get(r.name, float("nan")),
             "95%区间": f"{analytics.num(d['lo'].get(r.name))}–{analytics.num(d['hi'].get(r.name))}",
             "及格率(%)": d["pass_rate"].get(r.name, float("nan")),
             "与基线相同的题数": int(a["items"].get(r.name, 0)),
             "这些题的平均得分率(%)": a["mean"].get(r.name, float("nan"))} for r in s.rounds]
    return analytics.label(pd.DataFrame(rows))


def _rounds_note(anchors: pd.DataFrame) -> str:
    """Whether the rounds' papers differ, and which figures compare across rounds."""
    if len(anchors) < 2:
        return ""
    full = anchors["items"].iloc[0]
    if (anchors["items"] == full).all():
        return ('<p class="note">各轮用的是同一份试卷：整卷得分率可以直接比较，但提高中可能有记住题目的成分。</p>')
    return ('<p class="note">各轮试卷不同（后面各轮只重复基线测评中的锚题）：各轮整卷得分率难易不同，不能直接比较；'
            "“这些题的平均得分率”只用与基线相同的题，可以比较——本报告的“进步”都在这些题上计算。</p>")


KIND_ZH = {"exam": "考试", "exercise": "课程练习"}


def _others_section(scope: Scope) -> str:
    """Other papers and course exercises: each on its own, never a round of the series."""
    parts = []
    if len(scope.found) > 1 and not scope.nested:
        items = "".join(
            f"<li><b>{html.escape(x.title)}</b>（试卷 {html.escape(x.paper)}，{len(x.rounds)} 轮："
            f"{html.escape('、'.join(r.name for r in x.rounds))}）"
            + ("：本报告" if scope.series and x.paper == scope.series.paper else
               f'：<a href="series/{series_slug(x.paper)}/index.html">打开本系列的报告</a>'
               f"（首页与 Excel 工作簿；含街道报告的完整报告用 <code>shequ report --series {html.escape(x.paper)}</code> 生成）")
            + "</li>" for x in scope.found)
        parts.append(f"<h2>测评系列</h2><p class='note'>每套试卷的各轮是一个测评系列，各自成报告，"
                     f"轮次不混在一起。</p><ul>{items}</ul>")
    o = scope.others
    if len(o):
        t = o.assign(kind=o["kind"].map(lambda k: KIND_ZH.get(k, k)),
                     mean=o["mean"].round(1), lo=o["lo"].round(1), hi=o["hi"].round(1))
        t = t.rename(columns={"assessment": "测评", "kind": "类别", "paper": "试卷", "round": "轮次", "date": "日期",
                              "n": "人数n", "mean": "平均得分率(%)", "lo": "95%下限", "hi": "95%上限"})
        parts.append("<h2>其他试卷与课程练习</h2><p class='note'>这些测评不属于本报告的测评系列，"
                     f"单独列出；人数少于 {analytics.MIN_N} 的不显示平均得分率。</p>" + table_html(t))
    return "\n".join(parts)


# ---- notebooks -----------------------------------------------------------------------------


def tables_path(analysis_path: Path) -> Path:
    """Where the index process saves the district tables, beside its item analysis."""
    return analysis_path.with_name("tables.pkl")


def write_book(book: dict, path: Path) -> Path:
    """A workbook from {sheet name: DataFrame or text} (one sheet per view), formatted by
    report.workbook: Chinese labels, frozen headers, filters, colour scales on scores."""
    return sheets.write_xlsx(path, workbook.district_sheets(book))


def write_trainer_workbook(table: pd.DataFrame, roster: pd.DataFrame | None, path: Path) -> Path:
    """The trainers' workbook alone (`shequ results build`): views computed once, here."""
    df = table if _is_categorised(table) else results.categorise(table.copy())
    df = series_mod.report_table(df, roster)   # the same series the report shows
    if df.empty:
        return write_book(analytics.workbook(df, roster, {}), path)
    ana = itemstats.analyse(df, itemstats.info_for(df))
    return write_book(analytics.workbook(df, roster, analytics.district_views(df, roster, ana, load_skills())), path)

"""HTML report for coordinators: build/report/index.html with charts by 街道 and 社区,
plus the analytics notebooks executed with papermill and rendered without code."""
from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from . import analytics, charts, paths, results

FONT_STACK = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif'
CSS = f"""
body {{ font-family: {FONT_STACK}; margin: 2em auto; max-width: 1100px; color: #222; line-height: 1.6; }}
h1 {{ border-bottom: 3px solid #2b6cb0; padding-bottom: .3em; }}
h2 {{ margin-top: 2em; color: #2b6cb0; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 14px; }}
th, td {{ border: 1px solid #ccc; padding: 4px 10px; text-align: right; }}
th {{ background: #edf2f7; }}
td:first-child, th:first-child {{ text-align: left; }}
img {{ max-width: 100%; border: 1px solid #eee; }}
.note {{ color: #666; font-size: 13px; }}
nav a {{ margin-right: 1.5em; }}
"""
NOTEBOOKS = [("overview", "区级总览")]


def page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def table_html(df: pd.DataFrame) -> str:
    return df.to_html(index=False, na_rep="—", border=0, escape=True, float_format=lambda x: f"{x:.1f}")


def render(df: pd.DataFrame, roster: pd.DataFrame, out_dir: Path | None = None,
           notebooks: bool = True) -> Path:
    """Write index.html (+ charts, exports, rendered notebooks) and return its path."""
    out = out_dir or paths.BUILD / "report"
    img = out / "img"
    img.mkdir(parents=True, exist_ok=True)
    rounds = sorted(df["round"].unique())
    last = rounds[-1]
    files = {
        "street_rounds": charts.street_rounds(df, img / "street-rounds.png"),
        "community": charts.community_bars(df, last, img / "community-latest.png"),
        "heatmap": charts.skill_heatmap(analytics.skill_matrix(df, "street", last),
                                        f"各街道分技能得分率（{last}）", img / "street-skill.png"),
        "progress": charts.skill_progress(analytics.skill_progress(df), img / "skill-progress.png"),
    }
    csv_path = results.export_csv_excel(df.drop(columns=["worker_id"]), out / "results-excel.csv")
    part = analytics.participation(df, roster, "street")
    summ = analytics.group_summary(df, "street")
    links = ""
    if notebooks:
        for name, title in NOTEBOOKS:
            render_notebook(name, out)
            links += f'<a href="{name}.html">{title}</a>'
    body = f"""
<h1>明湖区社区工作者技能测评报告</h1>
<p class="note">全部数据为合成数据（演示用），不对应任何真实人员。区级报告不显示个人信息；
人数少于 {analytics.MIN_N} 人的组不显示平均分（“—”）。得分率 = 得分 / 满分。</p>
<nav>{links}<a href="{csv_path.name}">结果表（Excel 可直接打开的 CSV）</a></nav>
<h2>各街道各轮平均得分率</h2>
<img src="img/{files['street_rounds'].name}" alt="各街道各轮平均得分率柱状图">
{table_html(summ.rename(columns={"street": "街道", "round": "轮次"}))}
<h2>参加情况</h2>
{table_html(part.rename(columns={"street": "街道", "round": "轮次"}))}
<h2>各社区最近一轮平均得分率（{html.escape(last)}）</h2>
<img src="img/{files['community'].name}" alt="各社区平均得分率条形图">
<h2>街道 × 技能</h2>
<img src="img/{files['heatmap'].name}" alt="街道与技能得分率热力图">
<h2>各技能各轮进步情况</h2>
<img src="img/{files['progress'].name}" alt="各技能各轮得分率折线图">
"""
    index = out / "index.html"
    index.write_text(page("明湖区社区工作者技能测评报告", body), encoding="utf-8")
    return index


def render_notebook(name: str, out: Path, parameters: dict | None = None,
                    output_name: str | None = None) -> Path:
    """Execute analytics/<name>.ipynb with papermill and render it to HTML without code."""
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    out.mkdir(parents=True, exist_ok=True)
    executed = paths.BUILD / "notebooks" / f"{output_name or name}.ipynb"
    executed.parent.mkdir(parents=True, exist_ok=True)
    params = {"results_path": str(results.default_path()), **(parameters or {})}
    pm.execute_notebook(str(paths.ANALYTICS / f"{name}.ipynb"), str(executed), parameters=params,
                        cwd=str(paths.ANALYTICS), progress_bar=False, kernel_name="python3",
                        log_output=False)
    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nbformat.read(str(executed), 4))
    body = body.replace("</head>", f"<style>body {{ font-family: {FONT_STACK}; }}</style></head>", 1)
    target = out / f"{output_name or name}.html"
    target.write_text(body, encoding="utf-8")
    return target


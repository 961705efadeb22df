"""`shequ` command line: a thin shell over the library. Messages are in Chinese; bad
input ends with a clear message and a non-zero exit, never a traceback."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .errors import ShequError


class UserError(ShequError):
    """Bad input found by the command line itself: printed as is, exit status 2."""


def cmd_data_generate(args) -> int:
    from . import synth

    if args.check:
        stale = synth.stale()
        if stale:
            print("以下数据文件与生成器不一致（运行 `shequ data generate` 重新生成）：\n  " + "\n  ".join(stale))
            return 1
        print(f"数据文件与生成器一致（{len(synth.files())} 个文件）。")
        return 0
    written = synth.write()
    print(f"已生成 {len(written)} 个数据文件到 datasets/（全部为合成数据）。")
    return 0


def cmd_bank_check(args) -> int:
    from . import bank
    from .bank import excel as bankio
    from .bank import stats as bankstats

    d = bankio.bank_dir(args.dir)
    items, problems = bank.load(d)
    for p in problems:
        print(p)
    if problems:
        print(f"\n发现 {len(problems)} 处问题（共读入 {len(items)} 道无误的题目）。改正后重新运行 `shequ bank check`。")
        return 1
    st = bankstats.stats(items)["by_type"]
    print(f"题库检查通过：{len(items)} 题（" + "，".join(f"{k} {v}" for k, v in st.items()) + "）。")
    return 0


def cmd_bank_export(args) -> int:
    from . import bank
    from .bank import excel as bankio

    d = bankio.bank_dir(args.dir)
    out = bankio.output_path(args.file, (".xlsx", ".csv"))
    problems = [] if args.empty else bankio.precheck(d)
    if problems:
        print("题库有问题，先运行 `shequ bank check` 改正后再导出：\n" + "\n".join(map(str, problems)))
        return 1
    n = bankio.export(d, out, bank.load_skills(), empty=args.empty)
    where = "（CSV 只含“题目”表）" if out.suffix.lower() == ".csv" else "，模板说明见其中的“说明”表"
    print(f"已导出 {n} 题到 {out}{where}。改好后运行 `shequ bank import {out}` 导回。")
    return 0


def cmd_bank_import(args) -> int:
    from . import bank
    from .bank import excel as bankio

    d = bankio.bank_dir(args.dir, may_be_new=True)
    rep = bankio.import_table(Path(args.file), d, bank.load_skills(), write=not args.dry_run)
    if rep.problems:
        print("\n".join(map(str, rep.problems)))
        print(f"\n发现 {len(rep.problems)} 处问题，没有写入任何文件。改正表格后重新导入。")
        return 1
    print(bankio.summary(rep, args.dry_run))
    return 0


def cmd_bank_stats(args) -> int:
    from . import bank
    from .bank import excel as bankio
    from .bank import stats as bankstats

    d = bankio.bank_dir(args.dir)
    out = bankio.output_path(args.xlsx, (".xlsx",)) if args.xlsx else None
    items, problems = bank.load(d)
    types, grid = bankstats.stats_tables(items, bank.load_skills())
    print(f"题库共 {len(items)} 题。\n\n按题型：\n{bankstats.format_table(types)}\n\n"
          f"双向细目表（主知识点 × 认知层次，题数）：\n{bankstats.format_table(grid)}")
    if out:
        bankstats.write_stats_xlsx(out, types, grid)
        print(f"\n已写入 {out}")
    if problems:
        print(f"\n注意：题库有 {len(problems)} 处问题，上表只统计无误的题目；运行 `shequ bank check` 查看。")
        return 1
    return 0


def cmd_bank_format(args) -> int:
    from .bank import canonical
    from .bank import excel as bankio

    d = bankio.bank_dir(args.dir)
    problems = bankio.precheck(d)
    if problems:
        print("题库有问题，先运行 `shequ bank check` 改正：\n" + "\n".join(map(str, problems)))
        return 1
    changed = canonical.format_bank(d)
    print(f"已按统一格式重写 {len(changed)} 个文件：" + "、".join(changed) if changed else "全部文件已是统一格式。")
    return 0


def cmd_paper_build(args) -> int:
    from . import bank
    from .exam import paper

    try:
        items = bank.load_ok()
    except bank.BankError as e:
        raise UserError("题库有问题，先运行 `shequ bank check` 改正：\n" +
                        "\n".join(str(p) for p in e.problems[:20])) from None
    ms = paper.build(args.name, args.round, forms=args.forms, bank_items=items)
    for m in ms:
        print(f"已生成 grading/source/{m['assignment']}/（{len(m['cells'])} 题，满分 {m['max_score']:g}，"
              f"{m['form']}卷）和 grading/manifests/{m['assignment']}.json")
    return 0


def cmd_demo(args) -> int:
    from . import demo

    demo.run(paper_name=args.paper, workers=args.workers)
    return 0


def cmd_report(args) -> int:
    from . import results
    from .grading import roster
    from .report import render as report

    from .analytics import series

    try:
        df = results.load(args.results)
    except FileNotFoundError as e:
        raise UserError(str(e)) from None
    staff = roster.frame()
    _, left_out = series.known(df, staff)
    index = report.render(df, staff, out_dir=Path(args.out) if args.out else None, series=args.series)
    if left_out:
        shown = "、".join(left_out[:20]) + ("……" if len(left_out) > 20 else "")
        print(f"注意：{len(left_out)} 个工号不在花名册中，其成绩未计入报告：{shown}。"
              "核对花名册（datasets/staff.csv）或提交时用的工号后重新生成。")
    print(f"报告已生成：{index}")
    return 0


def cmd_site_audit(args) -> int:
    from .site import render

    return render.run(args.dir, args.as_of, args.html_out)


# ---- one function per command group: each registers its own sub-commands -----------------

def _data(sub) -> None:
    data = sub.add_parser("data", help="合成数据").add_subparsers(dest="cmd", metavar="子命令")
    g = data.add_parser("generate", help="用固定种子生成 datasets/ 下的合成数据")
    g.add_argument("--check", action="store_true", help="只检查已提交的数据与生成器是否一致")
    g.set_defaults(func=cmd_data_generate)


def _bank(sub) -> None:
    bank = sub.add_parser("bank", help="题库").add_subparsers(dest="cmd", metavar="子命令")
    c = bank.add_parser("check", help="检查题库格式与内容")
    c.add_argument("--dir", help="题库目录（默认 exams/bank）")
    c.set_defaults(func=cmd_bank_check)
    e = bank.add_parser("export", help="把题库导出为 Excel（.xlsx）或 CSV，表头为中文")
    e.add_argument("file", help="输出文件，如 bank.xlsx")
    e.add_argument("--dir", help="题库目录（默认 exams/bank）")
    e.add_argument("--empty", action="store_true", help="只导出空模板（表头、主题文件、说明）")
    e.set_defaults(func=cmd_bank_export)
    i = bank.add_parser("import", help="从 Excel（.xlsx）或 CSV（UTF-8 或 GBK）导入题目：先检查全部行，有错不写")
    i.add_argument("file", help="Excel 或 CSV 文件")
    i.add_argument("--dir", help="题库目录（默认 exams/bank）")
    i.add_argument("--dry-run", action="store_true", help="只检查并报告会改哪些文件，不写入")
    i.set_defaults(func=cmd_bank_import)
    s = bank.add_parser("stats", help="按题型统计，并列出双向细目表（知识点 × 认知层次）")
    s.add_argument("--dir", help="题库目录（默认 exams/bank）")
    s.add_argument("--xlsx", help="同时写入 Excel 文件")
    s.set_defaults(func=cmd_bank_stats)
    f = bank.add_parser("format", help="把题库文件改写为统一格式（内容不变）")
    f.add_argument("--dir", help="题库目录（默认 exams/bank）")
    f.set_defaults(func=cmd_bank_format)


def _paper(sub) -> None:
    paper = sub.add_parser("paper", help="试卷").add_subparsers(dest="cmd", metavar="子命令")
    b = paper.add_parser("build", help="按蓝图组卷，写出 nbgrader 源文件")
    b.add_argument("name", help="exams/papers/ 下的蓝图名（不含 .yaml）")
    b.add_argument("--round", help="轮次标签，如 r1")
    b.add_argument("--forms", type=int, help="平行卷份数（A/B 卷；默认取蓝图的 forms）")
    b.set_defaults(func=cmd_paper_build)


def _demo(sub) -> None:
    d = sub.add_parser("demo", help="演示：组卷、发布、模拟作答、评分、出报告")
    d.add_argument("--paper", default="basics")
    d.add_argument("--workers", type=int, help="只模拟前 N 名工作者（默认全部）")
    d.set_defaults(func=cmd_demo)


def _report(sub) -> None:
    r = sub.add_parser("report", help="由结果表生成 HTML 报告")
    r.add_argument("--results", help="结果表 CSV（默认 build/results/results.csv）")
    r.add_argument("--series", help="测评系列（试卷蓝图名，如 basics；默认取轮次最多的一套）")
    r.add_argument("--out", help="报告目录（默认 build/report/）")
    r.set_defaults(func=cmd_report)


def _site(sub) -> None:
    site = sub.add_parser("site", help="网站维护").add_subparsers(dest="cmd", metavar="子命令")
    a = site.add_parser("audit", help="离线巡检网站快照",
                        description="离线巡检网站目录（不联网）：栏目更新、留言回应、个人信息泄露、链接、无障碍等。"
                                    "退出码：0 没有否决项，1 有否决项，2 输入有误。")
    a.add_argument("dir", metavar="网站目录", help="含 .html 页面的目录")
    a.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD", help="监测时间点，默认今天")
    a.add_argument("--html", dest="html_out", metavar="报告.html", help="另存一份 HTML 报告到此文件")
    a.set_defaults(func=cmd_site_audit)


def cmd_feedback(args) -> int:
    from .report import feedback

    out = feedback.generate(args.assignment)
    if args.release and out["written"]:
        feedback.release(args.assignment)
    print(f"已生成 {len(out['written']) + len(out['offline'])} 份成绩反馈。")
    if out["written"]:
        where = "已通过作业列表发放" if args.release else "用 --release 发放（作业列表中的 feedback）"
        print(f"  {len(out['written'])} 份在 grading/feedback/，{where}。")
    if out["offline"]:
        print(f"  {len(out['offline'])} 份是线下收集的作答，反馈在 grading/feedback-offline/<工号>/，请线下发给本人。")
    return 0


def _feedback(sub) -> None:
    f = sub.add_parser("feedback", help="生成（并发放）试卷的成绩反馈：答案、正确答案、解析、分知识点得分")
    f.add_argument("assignment", help="作业名，如 basics-r1-a")
    f.add_argument("--release", action="store_true", help="生成后立即通过交换目录发放")
    f.set_defaults(func=cmd_feedback)


# ---- course exercises, roster, submissions, grading, JupyterLab (grading operations) ------

def cmd_course_build(args) -> int:
    from .exam import exercise

    ms = exercise.build(args.course)
    for m in ms:
        print(f"已生成 grading/source/{m['assignment']}/（{len(m['cells'])} 个评分测试，满分 {m['max_score']:g}）"
              f"和 grading/manifests/{m['assignment']}.json")
    print(f"共 {len(ms)} 个练习。发布给学员：shequ course release（或指定作业名）。")
    return 0


def cmd_course_release(args) -> int:
    from .exam import exercise
    from .grading import course

    root = course.course_root()
    names = args.assignments or [a for a, _ in exercise.exercises(args.course)
                                 if (root / "source" / a).is_dir()]  # every exercise built so far
    if not names:
        raise UserError("还没有生成任何练习：先运行 shequ course build。")
    missing = [a for a in names if not (root / "source" / a).is_dir()]
    if missing:
        raise UserError(f"grading/source/ 中没有 {'、'.join(missing)}：先运行 shequ course build。")
    course.generate_many(names, release=True)  # one nbgrader process for all of them
    for a in names:
        print(f"已发布 {a}：学员在 JupyterLab 的作业列表（Assignment List）中可以看到并获取。")
    return 0


def _course(sub) -> None:
    c = sub.add_parser("course", help="课程练习").add_subparsers(dest="cmd", metavar="子命令")
    b = c.add_parser("build", help="把课程练习写成 nbgrader 源文件（grading/source/）和清单")
    b.add_argument("course", nargs="?", help="课程文件夹名，如 info-collection（默认全部课程）")
    b.set_defaults(func=cmd_course_build)
    r = c.add_parser("release", help="生成并发布练习（nbgrader generate_assignment + release_assignment）")
    r.add_argument("assignments", nargs="*", help="作业名，如 ic-01-id-check（默认全部练习）")
    r.add_argument("--course", help="只发布这门课的练习")
    r.set_defaults(func=cmd_course_release)


def cmd_roster_sync(args) -> int:
    from .grading import gradebook, roster

    loaded = roster.load(args.file)
    if loaded.problems:
        print("花名册有问题，没有写入任何人（改正后重新运行）：", file=sys.stderr)
        for p in loaded.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    if args.check:
        print(f"花名册检查通过：{len(loaded.rows)} 人（未写入成绩库）。")
        return 0
    res = gradebook.sync_students(loaded.rows)
    print(f"花名册已同步到成绩库：新增 {len(res.created)} 人，更新 {len(res.updated)} 人，"
          f"未变 {len(res.unchanged)} 人（共 {len(loaded.rows)} 人）。")
    return 0


def _roster(sub) -> None:
    r = sub.add_parser("roster", help="花名册").add_subparsers(dest="cmd", metavar="子命令")
    s = r.add_parser("sync", help="把花名册（CSV/Excel）导入成绩库的学员名单；有任何错误行则不写入")
    s.add_argument("file", nargs="?", help="CSV（UTF-8/GBK）或 .xlsx 文件（默认 datasets/staff.csv）")
    s.add_argument("--check", action="store_true", help="只检查，不写入")
    s.set_defaults(func=cmd_roster_sync)


def cmd_submissions_import(args) -> int:
    from .grading import submissions

    rep = submissions.import_(args.assignment, Path(args.path))
    print(f"已导入 {len(rep.imported)} 份作答到 grading/submitted/<工号>/{args.assignment}/。")
    for title, items in (("有较新版本，旧版本已另存", rep.superseded), ("工号不在花名册中，未导入", rep.unknown),
                         ("不是笔记本（.ipynb），未导入", rep.not_notebooks), ("未导入", rep.skipped),
                         ("注意", rep.warnings)):
        if items:
            print(f"{title}（{len(items)}）：")
            for it in items:
                print(f"  {it}")
    return 0 if rep.imported or not (rep.unknown or rep.skipped or rep.not_notebooks) else 1


def cmd_submissions_collect(args) -> int:
    from .grading import submissions

    submissions.collect(args.assignment)
    print(f"已从交换目录收取 {args.assignment} 的作答到 grading/submitted/。")
    return 0


def _submissions(sub) -> None:
    s = sub.add_parser("submissions", help="作答收取").add_subparsers(dest="cmd", metavar="子命令")
    i = s.add_parser("import", help="导入线下收集的作答（文件夹或 zip；文件名以工号开头）")
    i.add_argument("assignment", help="作业名，如 basics-r1 或 ic-01-id-check")
    i.add_argument("path", help="文件夹或 .zip")
    i.set_defaults(func=cmd_submissions_import)
    c = s.add_parser("collect", help="收取学员通过作业列表提交的作答（nbgrader collect）")
    c.add_argument("assignment")
    c.set_defaults(func=cmd_submissions_collect)


def cmd_grade(args) -> int:
    from .grading import run as gradeops

    if args.jobs < 1 or (args.timeout is not None and args.timeout < 1):
        raise UserError("--jobs 和 --timeout 必须是正整数。")
    rep = gradeops.grade(args.assignments, jobs=args.jobs, timeout=args.timeout, force=args.force)
    print("\n".join(rep.summary()))
    print(f"日志：{rep.log}")
    return 1 if rep.failed or rep.unknown else 0


def _grade(sub) -> None:
    import os

    g = sub.add_parser("grade", help="评分：试卷不启动内核；练习用 nbgrader autograde 并行评分，可中断续评")
    g.add_argument("assignments", nargs="+", metavar="ASSIGNMENT", help="作业名")
    g.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1, help="并行进程数（默认 CPU 核数）")
    g.add_argument("--timeout", type=int, help="每个单元格最长运行秒数（默认 60，或环境变量 SHEQU_CELL_TIMEOUT）")
    g.add_argument("--force", action="store_true", help="全部重新评分（默认只评新的和改动过的作答）")
    g.set_defaults(func=cmd_grade)


def cmd_lab(args) -> int:
    import subprocess

    from .grading import course

    argv, cwd, env = course.lab_command(port=args.port, token=args.token, browser=not args.no_browser)
    print(f"启动 JupyterLab（阅卷：菜单 Nbgrader → Formgrader；作业列表：Nbgrader → Assignment List；"
          f"交换目录 {cwd / 'exchange'}）。按 Ctrl+C 停止。", flush=True)
    try:
        return subprocess.call(argv, cwd=cwd, env=env)
    except KeyboardInterrupt:
        return 0


def _lab(sub) -> None:
    lab = sub.add_parser("lab", help="启动 JupyterLab：formgrader 阅卷与作业列表（交换目录在 grading/exchange/）")
    lab.add_argument("--port", type=int, help="端口（默认 8888 起自动选择）")
    lab.add_argument("--token", help="访问令牌（默认由 Jupyter 生成）")
    lab.add_argument("--no-browser", action="store_true", help="不自动打开浏览器")
    lab.set_defaults(func=cmd_lab)


def cmd_results_build(args) -> int:
    from . import paths, results
    from .exam import manifest
    from .grading import gradebook, roster
    from .report import render as report

    root = Path(args.grading) if args.grading else paths.GRADING
    manifest_map = manifest.load_all(root)
    if not manifest_map:
        raise UserError(f"{root / 'manifests'} 中没有清单：先组卷（shequ paper build）或运行 shequ demo。")
    staff = roster.frame(args.roster)
    db = args.db or gradebook.db_url(root)
    out = Path(args.out) if args.out else paths.BUILD / "results"
    try:
        table, files = results.rebuild(db, staff, manifest_map, root / "autograded", out)
    except Exception as e:  # a missing or foreign gradebook: say so, no traceback
        raise UserError(f"无法读取成绩库 {db}：{type(e).__name__}: {e}") from None
    if table.empty:
        raise UserError("成绩库中没有与清单对应的成绩：先评分（shequ grade 或 shequ demo）。")
    files["xlsx"] = report.write_trainer_workbook(table, staff, out / "results.xlsx")
    print(f"结果表 {len(table)} 行（{table['worker_id'].nunique()} 人，{table['assessment'].nunique()} 个测评）：")
    for f in files.values():
        print(f"  {f}")
    return 0


def _results(sub) -> None:
    r = sub.add_parser("results", help="结果表").add_subparsers(dest="cmd", metavar="子命令")
    b = r.add_parser("build", help="从 nbgrader 成绩库重建结果表：CSV（带 BOM 的中文表头版另存）、parquet、xlsx")
    b.add_argument("--db", help="成绩库地址（默认 grading/gradebook.db 或 SHEQU_DB_URL）")
    b.add_argument("--grading", help="nbgrader 课程目录（清单与 autograded/；默认 grading/）")
    b.add_argument("--roster", help="花名册 CSV（默认 datasets/staff.csv）")
    b.add_argument("--out", help="输出目录（默认 build/results/）")
    b.set_defaults(func=cmd_results_build)




class _HelpFormatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        # prefix "" is argparse building a sub-command's prog name: leave that alone
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


# argparse's own messages, in the order tried; anything else is passed on as argparse wrote it
_ARGPARSE_MESSAGES = [
    (re.compile(r"the following arguments are required: (.*)"), "缺少参数：{0}"),
    (re.compile(r"unrecognized arguments: (.*)"), "无法识别的参数：{0}"),
    (re.compile(r"argument (.*?): invalid choice: '(.*?)' \(choose from (.*)\)"), "{0}没有“{1}”，可选：{2}"),
    (re.compile(r"argument (.*?): expected one argument"), "{0} 后面缺少取值"),
    (re.compile(r"argument (.*?): invalid (\w+) value: '(.*?)'"), "{0} 的取值应为{1}，收到：{2}"),
    (re.compile(r"argument (.*?): expected at least one argument"), "{0} 后面至少要有一个取值"),
]


_WORDS = {"int": "整数", "float": "数字"}



# ---- the district server (JupyterHub) ---------------------------------------------------

def cmd_hub_start(args) -> int:
    from .hub import layout, server

    return int(server.start(layout.Layout.from_env()) or 0)


def cmd_hub_stop(args) -> int:
    from .hub import layout, server

    if server.stop(layout.Layout.from_env()):
        print("区培训平台已停止。")
        return 0
    print("区培训平台没有在运行。")
    return 1


def cmd_hub_users_sync(args) -> int:
    from .hub import accounts, layout

    lay = layout.Layout.from_env()
    everyone = accounts.people(args.file, args.trainers)
    rep = accounts.sync(lay, everyone)
    trainers = sum(p.role == "trainer" for p in everyone.people)
    print(f"账号已同步：新增 {len(rep.created)}，更新 {len(rep.updated)}，未变 {len(rep.unchanged)}，"
          f"删除 {len(rep.removed)}（共 {len(everyone.people)} 人，其中培训师 {trainers} 人）。")
    if rep.kept:
        print(f"不在名单上但已有成绩、保留账号（{len(rep.kept)}）：{'、'.join(rep.kept)}")
    if rep.password_files:
        print(f"新账号的初始密码按街道写在 {len(rep.password_files)} 个表格里（只有 root 可读），请逐人发放：")
        for f in rep.password_files:
            print(f"  {f}")
    return 0


def cmd_hub_users_reset(args) -> int:
    from .hub import accounts, layout

    f = accounts.reset(layout.Layout.from_env(), args.login)
    print(f"{args.login} 的新密码已写入下面的表格（只有 root 可读），请当面交给本人：\n  {f}")
    return 0


def _hub(sub) -> None:
    h = sub.add_parser("hub", help="区培训平台（JupyterHub）：每人用自己的工号登录").add_subparsers(dest="cmd", metavar="子命令")
    s = h.add_parser("start", help="启动区培训平台（前台运行，Ctrl+C 停止；状态目录 SHEQU_HUB_STATE，默认 build/hub/）")
    s.set_defaults(func=cmd_hub_start)
    t = h.add_parser("stop", help="停止正在运行的区培训平台")
    t.set_defaults(func=cmd_hub_stop)
    up = h.add_parser("users", help="平台账号")
    up.set_defaults(func=lambda args: up.print_help() or 2)
    u = up.add_subparsers(dest="sub", metavar="子命令")
    y = u.add_parser("sync", help="由花名册建立或更新账号（工号登录），初始密码按街道写成表格；有错误行则一个也不写")
    y.add_argument("file", nargs="?", help="花名册 CSV（UTF-8/GBK）或 .xlsx（默认 datasets/staff.csv）")
    y.add_argument("--trainers", help="培训师名单 CSV：worker_id,name[,unit]（默认 datasets/trainers.csv）")
    y.set_defaults(func=cmd_hub_users_sync)
    r = u.add_parser("reset", help="为一个人重置密码（新密码写入表格，不显示在屏幕上）")
    r.add_argument("login", help="工号")
    r.set_defaults(func=cmd_hub_users_reset)

class _Parser(argparse.ArgumentParser):
    """Help and usage errors in Chinese; sub-command parsers inherit this class."""

    def __init__(self, *a, **kw):
        kw.setdefault("formatter_class", _HelpFormatter)
        kw["add_help"] = False
        super().__init__(*a, **kw)
        self._positionals.title = "参数"
        self._optionals.title = "选项"
        self.add_argument("-h", "--help", action="help", help="显示本帮助并退出")

    def error(self, message):
        for pattern, chinese in _ARGPARSE_MESSAGES:
            m = pattern.fullmatch(message)
            if m:
                message = chinese.format(*(_WORDS.get(g, g.replace("'", "")) for g in m.groups()))
                break
        self.exit(2, f"错误：{message}。\n{self.format_usage()}查看帮助：{self.prog} --help\n")


GROUPS = [_data, _bank, _paper, _demo, _report, _site, _feedback, _course, _roster, _submissions, _grade, _lab, _results, _hub]


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="shequ", description="社区信息化培训测评套件")
    sub = p.add_subparsers(dest="group", metavar="命令")
    for group in GROUPS:
        group(sub)
    for gp in sub.choices.values():  # `shequ bank` alone: show what bank can do
        if gp.get_default("func") is None:
            gp.set_defaults(func=lambda args, gp=gp: gp.print_help() or 2)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not hasattr(args, "func"):  # `shequ` alone
        p.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ShequError as e:  # every library error a user can fix (UserError is one)
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `shequ … | head` closed the pipe: not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())

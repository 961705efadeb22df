"""`shequ` command line: a thin shell over the library. Messages are in Chinese; bad
input ends with a clear message and a non-zero exit, never a traceback."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


class UserError(Exception):
    """Bad input: printed as is, exit status 2."""


def cmd_data_generate(args) -> int:
    from . import synth

    files = synth.district_files()
    extra = _optional_generators()
    for gen in extra:
        files.update(gen())
    if args.check:
        from . import paths

        stale = []
        for rel, content in files.items():
            p = paths.DATASETS / rel
            data = content.encode("utf-8") if isinstance(content, str) else content
            if not p.exists() or p.read_bytes() != data:
                stale.append(rel)
        if stale:
            print("以下数据文件与生成器不一致（运行 `shequ data generate` 重新生成）：\n  " + "\n  ".join(stale))
            return 1
        print(f"数据文件与生成器一致（{len(files)} 个文件）。")
        return 0
    written = synth.write(files)
    print(f"已生成 {len(written)} 个数据文件到 datasets/（全部为合成数据）。")
    return 0


def _optional_generators():
    """Generators of the course datasets (residents, site), when those modules exist."""
    gens = []
    for mod in ("residents", "site"):
        try:
            m = __import__(f"shequ.{mod}", fromlist=["files"])
        except ImportError:
            continue
        if hasattr(m, "files"):
            gens.append(m.files)
    return gens


def cmd_bank_check(args) -> int:
    from . import bank

    items, problems = bank.load(Path(args.dir) if args.dir else None)
    for p in problems:
        print(p)
    if problems:
        print(f"\n发现 {len(problems)} 处问题（共读入 {len(items)} 道无误的题目）。改正后重新运行 `shequ bank check`。")
        return 1
    st = bank.stats(items)["by_type"]
    print(f"题库检查通过：{len(items)} 题（" + "，".join(f"{k} {v}" for k, v in st.items()) + "）。")
    return 0


def cmd_paper_build(args) -> int:
    from . import bank, paper

    try:
        items = bank.load_ok()
    except bank.BankError as e:
        raise UserError("题库有问题，先运行 `shequ bank check` 改正：\n" +
                        "\n".join(str(p) for p in e.problems[:20])) from None
    try:
        ms = paper.build(args.name, args.round, forms=args.forms, bank_items=items)
    except paper.PaperError as e:
        raise UserError(str(e)) from None
    for m in ms:
        print(f"已生成 grading/source/{m['assignment']}/（{len(m['cells'])} 题，满分 {m['max_score']:g}，"
              f"{m['form']}卷）和 grading/manifests/{m['assignment']}.json")
    return 0


def cmd_demo(args) -> int:
    from . import demo

    demo.run(paper_name=args.paper, workers=args.workers)
    return 0


def cmd_report(args) -> int:
    import pandas as pd

    from . import paths, report, results

    try:
        df = results.load(args.results)
    except FileNotFoundError as e:
        raise UserError(str(e)) from None
    roster = pd.read_csv(paths.DATASETS / "staff.csv", dtype=str)
    index = report.render(df, roster)
    print(f"报告已生成：{index}")
    return 0


def cmd_site_audit(args) -> int:
    try:
        from . import audit
    except ImportError:
        raise UserError("网站巡检模块尚未安装。") from None
    return audit.main(args.rest)


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


def _paper(sub) -> None:
    paper = sub.add_parser("paper", help="试卷").add_subparsers(dest="cmd", metavar="子命令")
    b = paper.add_parser("build", help="按蓝图组卷，写出 nbgrader 源文件")
    b.add_argument("name", help="exams/papers/ 下的蓝图名（不含 .yaml）")
    b.add_argument("--round", help="轮次标签，如 r1")
    b.add_argument("--forms", type=int, default=1, help="平行卷份数（A/B 卷）")
    b.set_defaults(func=cmd_paper_build)


def _demo(sub) -> None:
    d = sub.add_parser("demo", help="演示：组卷、发布、模拟作答、评分、出报告")
    d.add_argument("--paper", default="basics")
    d.add_argument("--workers", type=int, help="只模拟前 N 名工作者（默认全部）")
    d.set_defaults(func=cmd_demo)


def _report(sub) -> None:
    r = sub.add_parser("report", help="由结果表生成 HTML 报告")
    r.add_argument("--results", help="结果表 CSV（默认 build/results/results.csv）")
    r.set_defaults(func=cmd_report)


def _site(sub) -> None:
    site = sub.add_parser("site", help="网站维护").add_subparsers(dest="cmd", metavar="子命令")
    a = site.add_parser("audit", help="离线巡检网站快照", add_help=False)
    a.add_argument("rest", nargs=argparse.REMAINDER)
    a.set_defaults(func=cmd_site_audit)


GROUPS = [_data, _bank, _paper, _demo, _report, _site]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="shequ", description="社区信息化培训测评套件")
    sub = p.add_subparsers(dest="group", metavar="命令")
    for group in GROUPS:
        group(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not hasattr(args, "func"):
        p.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断。", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark (not a test): grade 200 submissions of the 60-item annual paper with stock
nbgrader autograde (kernel executes hidden tests) and with the kernel-free grader; print
seconds per submission for each, the ratio, and check that every score agrees.

    .venv/bin/python bench/grade_exam.py [N]
"""
import sys
import tempfile
import time
from pathlib import Path

from shequ import paths
from shequ.grading import bulk as fastgrade
from shequ.synth import trial


def main(n: int = 200) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "grading"
        paths.GRADING = root
        t = time.perf_counter()
        m, rows = trial.setup(root, "annual", "2026", n)
        print(f"准备：{n} 份作答，{len(m['cells'])} 题/份，用时 {time.perf_counter() - t:.1f} s")
        t = time.perf_counter()
        trial.grade_stock(m["assignment"], jobs=1)
        stock_s = time.perf_counter() - t
        stock = trial.scores(m, rows)
        t = time.perf_counter()
        fastgrade.grade_exam(m["assignment"])
        free_s = time.perf_counter() - t
        free = trial.scores(m, rows)
    agree = bool(((stock - free).abs() < 1e-9).all()) and len(stock) == len(free) == n * len(m["cells"])
    print(f"stock nbgrader autograde（1 进程，内核执行隐藏测试）：{stock_s:.1f} s，{stock_s / n:.3f} s/份")
    print(f"kernel-free 批量评分（1 进程）：                      {free_s:.1f} s，{free_s / n:.4f} s/份")
    print(f"倍数：{stock_s / free_s:.1f}×；分数一致：{'是' if agree else '否'}（{len(free)} 个评分单元）")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200))

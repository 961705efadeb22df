"""Benchmark (not a test): how well the report recovers the simulated truth (issue #17).

For each seed, simulates the whole district with the realistic options on
(`simulate.REALISTIC`: a shift per 街道, learning that differs by skill, absence rising
round by round), builds the street reports' retraining lists (`views.retraining`), the
社区 ranking (`views.ranking`) and the progress tables (`views.gain_by`,
`views.skill_gain`), and compares them with the truth the simulation knows
(`shequ.synth.truth`, where the definitions are). Prints, per figure, the median over
seeds and the min–max.

    python bench/recovery.py [--seeds 20] [--jobs 2] [--first-seed 1]
"""
from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

# (key, 中文, English): one line per figure, in print order; None starts a new block
FIGURES = [
    None,
    ("prec_sure", "需再培训 精确率", "precision of 需再培训 (truly weak among listed)"),
    ("rec_sure", "需再培训 召回率", "recall of 需再培训 (listed among all truly weak)"),
    ("prec_any", "需再培训+建议关注 精确率", "precision of 需再培训 + 建议关注"),
    ("rec_any", "需再培训+建议关注 召回率", "recall of 需再培训 + 建议关注 (all truly weak)"),
    ("rec_sure_big", "需再培训 召回率（≥4题的技能）", "recall of 需再培训, skills of ≥4 items"),
    ("rec_any_big", "两单合计召回率（≥4题的技能）", "recall of both lists, skills of ≥4 items"),
    ("list_n", "名单条目数（全区）", "list entries, whole district"),
    ("list_small", "名单中来自不足4题技能的比例", "share of entries from skills under 4 items"),
    ("weak_share", "真实薄弱的人×技能比例", "share of worker × skill cells truly weak"),
    ("weak_small", "真实薄弱中所在技能不足4题的比例", "share of truly weak cells in skills under 4 items"),
    None,
    ("rho_raw", "社区排名 Spearman：原始均值", "Spearman ρ, ranking by raw mean vs true mean"),
    ("rho_est", "社区排名 Spearman：收缩估计", "Spearman ρ, ranking by shrunk estimate vs true mean"),
    ("rmse_raw", "社区均值误差 RMSE：原始（百分点）", "RMSE of raw community mean (points)"),
    ("rmse_est", "社区均值误差 RMSE：收缩（百分点）", "RMSE of shrunk community mean (points)"),
    None,
    ("cov_mean", "95%区间覆盖率：社区均值 lo/hi", "coverage, community mean lo/hi"),
    ("cov_est", "95%区间覆盖率：收缩估计 est_lo/est_hi", "coverage, shrunk est_lo/est_hi"),
    ("cov_mastery_p", "95%区间覆盖率：人×技能掌握度，对真实 p", "coverage, worker × skill mastery interval vs true p"),
    ("cov_mastery_e", "同上，对所用轮次这些题的期望得分率", "same, vs expected 得分率 on those items in the round used"),
    ("rmse_mastery", "人×技能误差 RMSE：掌握度估计（百分点）", "RMSE of the mastery estimate vs true p (points)"),
    ("rmse_pct", "人×技能误差 RMSE：得分率（百分点）", "RMSE of the raw latest-round 得分率 vs true p (points)"),
    ("cov_gain", "95%区间覆盖率：社区提高 gain_lo/gain_hi", "coverage, community paired gain gain_lo/gain_hi"),
    ("cov_gain_est", "95%区间覆盖率：社区提高收缩 est_lo/est_hi", "coverage, community gain shrunk est_lo/est_hi"),
    ("cov_skill_gain", "95%区间覆盖率：技能提高（全区）", "coverage, per-skill gain (district)"),
    None,
    ("bias_gain", "社区提高偏差：报告 − 真实（百分点）", "bias of community gain, reported − true (points)"),
    ("bias_gain_est", "社区提高收缩估计偏差（百分点）", "bias of shrunk community gain (points)"),
    ("bias_skill_gain", "技能提高偏差（百分点，各技能平均）", "bias of per-skill gain, mean over skills (points)"),
]


def one_seed(seed: int) -> dict[str, float]:
    from shequ.synth import simulate, truth

    with tempfile.TemporaryDirectory() as tmp:
        df, cohort = simulate.district_results(seed=seed, out_root=Path(tmp), realism=simulate.REALISTIC)
    return truth.recovery(df, cohort)


def skill_sizes() -> str:
    """Items per skill on the paper (every round of basics holds the same items)."""
    from shequ import bank
    from shequ.exam import paper

    with tempfile.TemporaryDirectory() as tmp:
        bp = paper.load_blueprint("basics")
        cells = paper.build("basics", bp.rounds[-1]["label"], bank_items=bank.load_ok(), out_root=Path(tmp))[0]["cells"]
    n: dict[str, int] = {}
    for c in cells:
        for s in c["skills"]:
            n[s] = n.get(s, 0) + 1
    return "  ".join(f"{s} {k}" for s, k in sorted(n.items(), key=lambda x: -x[1]))


def width(s: str) -> int:
    """Display columns: a CJK character takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def fmt(key: str, v: float) -> str:
    if key == "list_n":
        return f"{v:.0f}"
    if key.startswith(("rmse", "bias")):
        return f"{v:+.2f}" if key.startswith("bias") else f"{v:.2f}"
    return f"{v:.3f}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2, help="processes (default 2)")
    a = ap.parse_args(argv)
    from shequ.analytics import views
    from shequ.synth import simulate, truth

    seeds = list(range(a.first_seed, a.first_seed + a.seeds))
    t0 = time.perf_counter()
    if a.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(a.jobs) as pool:
            runs = pool.map(one_seed, seeds, chunksize=1)
    else:
        runs = [one_seed(s) for s in seeds]
    took = time.perf_counter() - t0

    r = simulate.REALISTIC
    print(f"真值恢复 · truth recovery: {len(seeds)} seeds ({seeds[0]}–{seeds[-1]}), {took:.0f} s, {a.jobs} jobs")
    print(f"模拟 · simulation: street_sd {r.street_sd}, skill_gain ×{r.skill_gain}, "
          f"skill_gain_sd {r.skill_gain_sd}, absent {r.absent}")
    print(f"规则 · rule: mastery model (analytics.mastery); 需再培训 when P(mastery < {views.MASTERY_PCT:g}%) ≥ "
          f"{views.SURE:.0%}, 建议关注 when ≥ {views.WATCH:.0%}; truly weak: true p < {truth.WEAK_P:.0%} (shequ.synth.truth)")
    print(f"每技能题数 · items per skill: {skill_sizes()}")
    w = max(width(z) for _, z, _ in filter(None, FIGURES)) + 2
    head = f"{'':{w}}{'median':>9}{'min':>9}{'max':>9}   "
    for row in FIGURES:
        if row is None:
            print()
            print(head)
            continue
        key, zh, en = row
        vals = [x[key] for x in runs if x[key] == x[key]]   # NaN: the seed had none
        if not vals:
            print(f"{zh}{' ' * (w - width(zh))}{'—':>9}{'—':>9}{'—':>9}   {en}")
            continue
        print(f"{zh}{' ' * (w - width(zh))}{fmt(key, statistics.median(vals)):>9}{fmt(key, min(vals)):>9}"
              f"{fmt(key, max(vals)):>9}   {en}")
    beats = sum(x["rho_est"] > x["rho_raw"] for x in runs)
    ties = sum(x["rho_est"] == x["rho_raw"] for x in runs)
    closer = sum(x["rmse_est"] < x["rmse_raw"] for x in runs)
    print()
    print(f"收缩胜过原始 · shrinkage beats raw: Spearman on {beats}/{len(runs)} seeds"
          f"{f' ({ties} ties)' if ties else ''}; RMSE on {closer}/{len(runs)} seeds")
    print("名义覆盖率 · nominal coverage 0.950")
    return 0


if __name__ == "__main__":
    sys.exit(main())

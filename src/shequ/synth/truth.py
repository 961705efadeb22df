"""What the simulation knows and a real district does not: the truth behind a simulated
results table, and how well the report's figures recover it (bench/recovery.py).

Definitions (the same for every list and every seed):

- Round index k: the position of a round in the blueprint (0 = first); the latest round
  K is the last one. Forms of a round hold the same items, so form A stands for all.
- Truly weak (`true_skill_p`, `truly_weak`): worker × skill with
  p = mean over the distinct items tagged with that skill in round K of
  `simulate.p_correct(cohort, worker, [skill], item facility, K)` below `WEAK_P` = 0.60.
  `[skill]`: the worker's ability in that skill alone, not blended with an item's second
  skill; the mean is over items (each counts once, whatever its points). A worker's
  true weakness is judged at K even when the report must use an earlier round (absent).
- Expected 得分率 (`expected_pct`): 100 × Σ `simulate.expected_score` / Σ points over a
  set of items: what the simulated scoring gives on average (blanks, half points). It is
  what the report's means, gains and intervals estimate.
- True community mean in round k: mean over all the 社区's workers on the roster (present
  or not) of their expected 得分率 on round k's paper. True gain first → last: the same
  mean of (last − first) on the items both rounds share; per skill, on that skill's items.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd

from . import simulate

WEAK_P = 0.60


FEW_ITEMS = 4   # the old list rule's minimum: figures on the bigger skills stay comparable with it


def round_cells(cohort: simulate.Cohort, k: int) -> list[dict]:
    """The graded cells of round k (form A; every form holds the same items)."""
    return [c for c in cohort.papers[k][0]["cells"] if c["type"] != "简答"]


def round_index(cohort: simulate.Cohort) -> dict[str, int]:
    """Round label → k."""
    return {forms[0]["round"]: k for k, forms in enumerate(cohort.papers)}


def skill_items(cohort: simulate.Cohort, k: int) -> dict[str, list[dict]]:
    """Skill → the cells of round k tagged with it (an item with two skills counts for both)."""
    out: dict[str, list[dict]] = defaultdict(list)
    for c in round_cells(cohort, k):
        for s in c["skills"]:
            out[s].append(c)
    return dict(out)


def true_skill_p(cohort: simulate.Cohort, k: int | None = None) -> pd.DataFrame:
    """worker_id, skill, items, p: the true chance of answering an average item of the skill
    in round k (default the latest) correctly, on that skill's ability alone."""
    k = len(cohort.papers) - 1 if k is None else k
    rows = []
    for s, cells in sorted(skill_items(cohort, k).items()):
        for w in cohort.workers:
            p = sum(simulate.p_correct(cohort, w, [s], c["facility"], k) for c in cells) / len(cells)
            rows.append((w["worker_id"], s, len(cells), p))
    return pd.DataFrame(rows, columns=["worker_id", "skill", "items", "p"])


def truly_weak(truth: pd.DataFrame, weak_p: float = WEAK_P) -> set[tuple[str, str]]:
    """(worker_id, skill) of every truly weak cell of a `true_skill_p` table."""
    t = truth[truth["p"] < weak_p]
    return set(zip(t["worker_id"], t["skill"]))


def expected_pct(cohort: simulate.Cohort, worker: dict, cells: list[dict], k: int) -> float:
    """Expected 得分率 (%) of a worker on these cells in round k (items' own skills)."""
    pts = sum(c["points"] for c in cells)
    got = sum(simulate.expected_score(c, simulate.p_correct(cohort, worker, c["skills"], c["facility"], k))
              for c in cells)
    return 100 * got / pts if pts else math.nan


def true_cell_pct(cohort: simulate.Cohort, cells_of: list[tuple[str, str, int]]) -> np.ndarray:
    """Expected 得分率 (%) of each (worker_id, skill, k) on that skill's items of round k:
    what a worker × skill 得分率 of the report estimates."""
    by_id = {w["worker_id"]: w for w in cohort.workers}
    items = {}
    out = np.full(len(cells_of), np.nan)
    for i, (wid, s, k) in enumerate(cells_of):
        if k not in items:
            items[k] = skill_items(cohort, k)
        cells = items[k].get(s)
        if cells and wid in by_id:
            out[i] = expected_pct(cohort, by_id[wid], cells, k)
    return out


def community_truth(cohort: simulate.Cohort, first: int = 0, last: int | None = None) -> pd.DataFrame:
    """Per (street, community): true mean 得分率 in the last round (`mean`) and the true gain
    first → last on the items both rounds share (`gain`), over all its roster workers."""
    last = len(cohort.papers) - 1 if last is None else last
    cur = round_cells(cohort, last)
    common = {c["item"] for c in round_cells(cohort, first)} & {c["item"] for c in cur}
    pre_c = [c for c in round_cells(cohort, first) if c["item"] in common]
    post_c = [c for c in cur if c["item"] in common]
    rows = [(w["street"], w["community"], expected_pct(cohort, w, cur, last),
             expected_pct(cohort, w, post_c, last) - expected_pct(cohort, w, pre_c, first))
            for w in cohort.workers]
    t = pd.DataFrame(rows, columns=["street", "community", "mean", "gain"])
    return t.groupby(["street", "community"])[["mean", "gain"]].mean()


def skill_gain_truth(cohort: simulate.Cohort, first: int = 0, last: int | None = None) -> pd.Series:
    """Per skill: mean over all roster workers of the true gain first → last on the skill's
    items both rounds share."""
    last = len(cohort.papers) - 1 if last is None else last
    common = {c["item"] for c in round_cells(cohort, first)} & {c["item"] for c in round_cells(cohort, last)}
    pre = {s: [c for c in cs if c["item"] in common] for s, cs in skill_items(cohort, first).items()}
    post = {s: [c for c in cs if c["item"] in common] for s, cs in skill_items(cohort, last).items()}
    out = {}
    for s in sorted(set(pre) & set(post)):
        if pre[s] and post[s]:
            out[s] = float(np.mean([expected_pct(cohort, w, post[s], last) - expected_pct(cohort, w, pre[s], first)
                                    for w in cohort.workers]))
    return pd.Series(out, name="gain")


# ---- comparing estimates with the truth -------------------------------------------------

def precision_recall(found: set, true: set) -> tuple[float, float]:
    """Share of the found that are true, share of the true that are found (NaN when empty)."""
    hit = len(found & true)
    return (hit / len(found) if found else math.nan, hit / len(true) if true else math.nan)


def spearman(a, b) -> float:
    """Spearman's rank correlation (ties get mean ranks) over pairs where both are finite."""
    a, b = pd.Series(np.asarray(a, float)), pd.Series(np.asarray(b, float))
    ok = a.notna() & b.notna()
    if ok.sum() < 3:
        return math.nan
    return float(a[ok].rank().corr(b[ok].rank()))


def coverage(lo, hi, truth) -> float:
    """Share of intervals [lo, hi] holding the truth, over rows where all three are finite."""
    lo, hi, truth = (np.asarray(x, float) for x in (lo, hi, truth))
    ok = np.isfinite(lo) & np.isfinite(hi) & np.isfinite(truth)
    return float(np.mean((lo[ok] <= truth[ok]) & (truth[ok] <= hi[ok]))) if ok.any() else math.nan


def recovery(df: pd.DataFrame, cohort: simulate.Cohort) -> dict[str, float]:
    """Every figure of bench/recovery.py for one simulated district (`district_results`)."""
    from ..analytics import views

    k_of = round_index(cohort)
    K = len(cohort.papers) - 1
    f: dict[str, float] = {}

    # retraining lists, as each street report builds them (skill ids: no name mapping)
    lists = pd.concat([views.retraining(df, None, s, skill_names={}) for s in sorted(df["street"].unique())])
    sure = set(zip(lists.loc[lists["level"] == "需再培训", "worker_id"], lists.loc[lists["level"] == "需再培训", "skill_name"]))
    either = set(zip(lists["worker_id"], lists["skill_name"]))
    truth = true_skill_p(cohort, K)
    present = set(df["worker_id"].unique())
    truth = truth[truth["worker_id"].isin(present)]
    weak = truly_weak(truth)
    f["prec_sure"], f["rec_sure"] = precision_recall(sure, weak)
    f["prec_any"], f["rec_any"] = precision_recall(either, weak)
    # the same on the skills with enough items for the old rule (comparable with its figures)
    big = truth[truth["items"] >= FEW_ITEMS]
    keep = set(zip(big["worker_id"], big["skill"]))
    f["rec_sure_big"] = precision_recall(sure & keep, truly_weak(big))[1]
    f["rec_any_big"] = precision_recall(either & keep, truly_weak(big))[1]
    f["weak_share"] = len(weak) / len(truth)
    f["list_n"] = len(lists)
    f["list_small"] = float((lists["obs"] < FEW_ITEMS).mean()) if len(lists) else math.nan
    f["weak_small"] = 1 - len(truly_weak(big)) / len(weak) if weak else math.nan

    # worker × skill: the model's 95 % interval against the definition's p, and against the
    # expected 得分率 of the items and round the report used
    ws = views.worker_skills(df).merge(truth[["worker_id", "skill", "p"]], on=["worker_id", "skill"])
    f["cov_mastery_p"] = coverage(ws["m_lo"], ws["m_hi"], 100 * ws["p"])
    used = ws["used"].str.replace("+练习", "", regex=False).map(k_of)
    f["cov_mastery_e"] = coverage(ws["m_lo"], ws["m_hi"],
                                  true_cell_pct(cohort, list(zip(ws["worker_id"], ws["skill"], used))))
    f["rmse_mastery"] = float(np.sqrt(np.mean((ws["mastery"] - 100 * ws["p"]) ** 2)))
    f["rmse_pct"] = float(np.sqrt(np.mean((ws["pct"] - 100 * ws["p"]) ** 2)))

    # 社区 ranking in the latest round: raw and shrunk means against the true means
    ct = community_truth(cohort, 0, K)
    rk = views.ranking(df).set_index(["street", "community"])
    rk = rk.join(ct.rename(columns={"mean": "true", "gain": "true_gain"}))
    ranked = rk[rk["rank"].notna()]
    f["rho_raw"] = spearman(ranked["mean"], ranked["true"])
    f["rho_est"] = spearman(ranked["est"], ranked["true"])
    f["rmse_raw"] = float(np.sqrt(np.mean((ranked["mean"] - ranked["true"]) ** 2)))
    f["rmse_est"] = float(np.sqrt(np.mean((ranked["est"] - ranked["true"]) ** 2)))
    f["cov_mean"] = coverage(rk["lo"], rk["hi"], rk["true"])
    f["cov_est"] = coverage(rk["est_lo"], rk["est_hi"], rk["true"])

    # paired gains per 社区 and per skill against the true gains
    g = views.gain_by(df, by="community").set_index(["street", "community"]).join(ct[["gain"]].rename(columns={"gain": "true"}))
    f["cov_gain"] = coverage(g["gain_lo"], g["gain_hi"], g["true"])
    f["cov_gain_est"] = coverage(g["est_lo"], g["est_hi"], g["true"])
    f["bias_gain"] = float((g["gain"] - g["true"]).mean())
    f["bias_gain_est"] = float((g["gain_est"] - g["true"]).mean())
    sg = views.skill_gain(df).set_index("skill").join(skill_gain_truth(cohort, 0, K).rename("true"))
    f["bias_skill_gain"] = float((sg["gain"] - sg["true"]).mean())
    f["cov_skill_gain"] = coverage(sg["gain_lo"], sg["gain_hi"], sg["true"])
    return f

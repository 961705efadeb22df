"""Item and paper statistics (classical test theory), with the definitions of
/work/shared/reference/item-statistics.md: Moodle's quiz statistics for facility, SD,
discrimination index (item–rest correlation), discriminative efficiency, random guess
score, Cronbach's α / CIC, error ratio and standard error; Chinese practice for 得分率(P)
and Ebel's 区分度 D from the upper/lower 27 %; distractors per bank option.

Which attempts: the first attempt of each worker at each assessment (a later duplicate of
the same worker × assessment × cell is ignored). Only exam rows are analysed (kind ==
"exam"). An item nobody has been graded on yet (a 简答 waiting for a person) is left out;
an attempt still missing a grade on an analysed item is left out of that assessment.

Every figure is a percentage of the item's maximum unless its name says otherwise; the
table column labels (`LABELS`) say which definition each one is.
"""
from __future__ import annotations

import math
import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..answers import _text, choice_letters, truth_value

GROUP_SHARE = 0.27   # upper / lower groups by total score (Kelley's 27 %)
DE_DUBIOUS = 15.0    # Moodle: DE < 15 % → dubious item
DI_VERY_LIKELY = 30.0  # Moodle question bank: DI < 30 → very likely needs checking
DI_LIKELY = 50.0       # Moodle question bank: DI < 50 → likely needs checking
GUESS_MAX = 40.0     # Moodle: random guess score > 40 % is unsatisfactory
FACILITY_BROKEN = 5.0
FACILITY_TRIVIAL = 95.0
CIC_GOOD, CIC_BAD = 75.0, 64.0
EBEL = [(0.40, "很好"), (0.30, "较好"), (0.20, "需修改"), (-math.inf, "应淘汰")]
CHOICE = ("单选", "多选")
BLANK, UNREADABLE = "未作答", "无法识别"
SEVERITY = ["应复查", "留意", "提示", "正常"]   # worst first

LABELS = {
    "assessment": "测评", "paper": "试卷", "round": "轮次", "form": "卷别", "cell": "题位",
    "item": "题号(题库)", "type": "题型", "skills": "知识点", "n": "作答人数",
    "max_score": "满分", "facility": "得分率P(%)", "sd": "标准差SD(%)",
    "di": "区分度DI(%)·题-余相关", "de": "区分效率DE(%)", "ebel_d": "区分度D(高低27%)",
    "p_upper": "高分组得分率(%)", "p_lower": "低分组得分率(%)", "guess": "随机猜测得分(%)",
    "reading": "难度解读(Moodle)", "ebel_reading": "D 评价(Ebel)", "severity": "结论",
    "flags": "原因", "forms": "出现位置(测评/题位)", "severe_in": "被标应复查的次数",
}
PAPER_LABELS = {
    "assessment": "测评", "paper": "试卷", "round": "轮次", "form": "卷别", "n": "作答人数",
    "k": "题数", "max_score": "满分", "mean": "平均得分率(%)", "median": "中位数(%)",
    "sd": "标准差SD(%)", "alpha": "Cronbach α(KR-20)", "alpha_se": "α 的标准误(ASE)",
    "alpha_lo": "α 95%下限", "alpha_hi": "α 95%上限", "cic": "CIC(=100α)", "er": "误差比ER(%)",
    "se": "测量标准误SE(%)", "se_marks": "测量标准误SE(分)", "reading": "评价",
}
DISTRACTOR_LABELS = {
    "assessment": "测评", "cell": "题位", "item": "题号(题库)", "type": "题型", "option": "选项(题库字母)",
    "key": "正确答案", "n": "选择人数", "pct": "选择比例(%)", "pct_upper": "高分组选择(%)",
    "pct_lower": "低分组选择(%)", "mean_total": "选择者平均总分(%)", "flag": "标记",
}


# ---- readings -------------------------------------------------------------------------

def facility_reading(f: float) -> str:
    """Moodle's reading of facility (%)."""
    if f is None or not np.isfinite(f):
        return "—"
    for top, word in [(5, "极难或题目有误"), (10, "很难"), (20, "难"), (34, "较难"), (65, "适中"),
                      (80, "较易"), (89, "易"), (94, "很易")]:
        if f <= top:
            return word
    return "极易"


def ebel_reading(d: float) -> str:
    if d is None or not np.isfinite(d):
        return "—"
    for low, word in EBEL:
        if d >= low - 1e-9:
            return word
    return "应淘汰"


def guess_score(kind: str, k: int | None = None, keys: int | None = None,
                scoring: str = "partial") -> float:
    """Expected score (% of max) from guessing: 单选 1/k; 判断 50 %; 多选 one of the 2^k − 1
    non-empty answers picked at random (a proper subset of the key earns half under
    partial scoring); 填空 and 简答 0."""
    if kind == "单选":
        return 100.0 / (k or 4)
    if kind == "判断":
        return 50.0
    if kind == "多选":
        k = k or 4
        m = keys if keys else max(1, k // 2)
        total = 2 ** k - 1
        part = 0.5 * (2 ** m - 2) if scoring == "partial" else 0.0
        return 100.0 * (1 + part) / total
    return 0.0


# ---- the response matrix of one assessment -----------------------------------------------

@dataclass
class Matrix:
    """Scores of one assessment: s attempts × k items (first attempts, fully graded)."""
    assessment: str
    workers: np.ndarray   # s worker ids
    cells: list[str]      # k cells
    items: list[str]      # k bank item ids
    types: list[str]
    skills: list[str]
    maxes: np.ndarray     # k maximum marks
    X: np.ndarray         # s × k marks
    w_codes: np.ndarray | None = None   # the workers' codes in the prepared rows

    @property
    def totals(self) -> np.ndarray:
        return self.X.sum(axis=1)


def codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes and their labels (as str) of a column; categoricals cost nothing."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = np.asarray(col.cat.categories.astype(str), dtype=object)
        c = col.cat.codes.to_numpy().astype(np.int64)
    else:
        c, u = pd.factorize(col.astype(str), sort=True)
        c, cats = c.astype(np.int64), np.asarray(u, dtype=object)
    if (c < 0).any():   # missing values read as ''
        cats = np.append(cats, "")
        c = np.where(c < 0, len(cats) - 1, c)
    return c, cats


def exam_rows(df: pd.DataFrame) -> pd.DataFrame:
    if "kind" in df.columns:
        mask = (df["kind"] == "exam").to_numpy()
        if not mask.all():
            return df[mask]
    return df


@dataclass
class Prepared:
    """Codes of the exam rows, first attempts only (each (assessment, worker, cell) once)."""
    a: np.ndarray          # assessment code per row
    w: np.ndarray          # worker code
    c: np.ndarray          # cell code
    score: np.ndarray
    maxs: np.ndarray
    a_names: np.ndarray
    w_names: np.ndarray
    c_names: np.ndarray
    rows: pd.DataFrame     # the rows kept (same order as the arrays)


def prepare(df: pd.DataFrame) -> Prepared:
    d = exam_rows(df)
    a, an = codes(d["assessment"])
    w, wn = codes(d["worker_id"])
    c, cn = codes(d["cell"])
    key = (a * len(wn) + w) * len(cn) + c
    space = len(an) * len(wn) * len(cn)
    if space <= 50_000_000:   # a count per possible key is cheaper than hashing
        has_dup = bool((np.bincount(key, minlength=space) > 1).any()) if len(key) else False
    else:
        has_dup = True
    dup = pd.Series(key).duplicated().to_numpy() if has_dup else None
    if dup is not None and dup.any():   # a later attempt at the same cell: keep the first
        keep = ~dup
        d, a, w, c = d[keep], a[keep], w[keep], c[keep]
    return Prepared(a, w, c, d["score"].to_numpy(dtype=float), d["max_score"].to_numpy(dtype=float),
                    an, wn, cn, d)


def matrices(df: pd.DataFrame, prep: Prepared | None = None) -> list[Matrix]:
    """One response matrix per exam assessment, in assessment order."""
    p = prep or prepare(df)
    out = []
    if len(p.a) == 0:
        return out
    order = np.argsort(p.a, kind="stable")
    bounds = np.searchsorted(p.a[order], np.arange(len(p.a_names) + 1))
    item_c, item_n = codes(p.rows["item"])
    type_c, type_n = codes(p.rows["type"])
    sk_c, sk_n = codes(p.rows["skills"])
    nw, nc = len(p.w_names), len(p.c_names)
    for a_code, name in enumerate(p.a_names):
        idx = order[bounds[a_code]:bounds[a_code + 1]]
        if len(idx) == 0:
            continue
        wc, cc = p.w[idx], p.c[idx]
        X = np.full((nw, nc), np.nan)
        X[wc, cc] = p.score[idx]
        mx = np.zeros(nc)
        np.maximum.at(mx, cc, p.maxs[idx])
        first = np.full(nc, -1)
        first[cc[::-1]] = idx[::-1]
        present_w = np.zeros(nw, bool)
        present_w[wc] = True
        cols = np.flatnonzero(first >= 0)
        X = X[present_w][:, cols]
        wids = p.w_names[present_w]
        mx, first = mx[cols], first[cols]
        # leave out items nobody has a grade on yet, then attempts still missing a grade
        graded = np.isfinite(X).mean(axis=0) > 0.5
        X, cols, mx, first = X[:, graded], cols[graded], mx[graded], first[graded]
        complete = np.isfinite(X).all(axis=1)
        out.append(Matrix(str(name), wids[complete], list(p.c_names[cols]), list(item_n[item_c[first]]),
                          list(type_n[type_c[first]]), list(sk_n[sk_c[first]]), mx, X[complete],
                          np.flatnonzero(present_w)[complete]))
    return out


def groups(m: Matrix) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of the upper and lower 27 % by total score (ties broken by worker id:
    the higher total first, then the smaller id). Group size round(0.27·s), at least 1."""
    s = len(m.workers)
    if s < 2:
        return np.array([], int), np.array([], int)
    order = np.lexsort((m.workers, -m.totals))
    g = max(1, int(math.floor(GROUP_SHARE * s + 0.5)))
    return order[:g], order[-g:]


def item_statistics(m: Matrix) -> pd.DataFrame:
    """Facility, SD, DI, DE, Ebel's D of every item of one matrix (see module docstring)."""
    X, mx = m.X, m.maxes
    s, k = X.shape
    nan = np.full(k, np.nan)
    res = {"n": np.full(k, s)}
    if s >= 1:
        res["facility"] = 100 * X.mean(axis=0) / mx
    else:
        res["facility"] = nan
    if s >= 2:
        T = X.sum(axis=1)
        R = T[:, None] - X                      # rest of test
        xc = X - X.mean(axis=0)
        rc = R - R.mean(axis=0)
        var_x = (xc ** 2).sum(axis=0) / (s - 1)
        var_r = (rc ** 2).sum(axis=0) / (s - 1)
        cov = (xc * rc).sum(axis=0) / (s - 1)
        xs = np.sort(X, axis=0)
        rs = np.sort(R, axis=0)
        cov_max = ((xs - xs.mean(axis=0)) * (rs - rs.mean(axis=0))).sum(axis=0) / (s - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            res["sd"] = 100 * np.sqrt(var_x) / mx
            den = np.sqrt(var_x * var_r)
            res["di"] = np.where(den > 0, 100 * cov / np.where(den > 0, den, 1), np.nan)
            res["de"] = np.where(cov_max > 0, 100 * cov / np.where(cov_max > 0, cov_max, 1), np.nan)
        up, lo = groups(m)
        pu = X[up].mean(axis=0) / mx
        pl = X[lo].mean(axis=0) / mx
        res["ebel_d"] = pu - pl
        res["p_upper"], res["p_lower"] = 100 * pu, 100 * pl
    else:
        for c in ("sd", "di", "de", "ebel_d", "p_upper", "p_lower"):
            res[c] = nan
    out = pd.DataFrame({"assessment": m.assessment, "cell": m.cells, "item": m.items,
                        "type": m.types, "skills": m.skills, "max_score": mx, **res})
    return out


def paper_statistics(m: Matrix) -> dict:
    """Whole-test figures: mean, SD, Cronbach's α (KR-20 for 0/1 items) with its asymptotic
    standard error (Duhachek & Iacobucci 2004 / van Zyl et al. 2000, normal theory), and
    Moodle's CIC, error ratio and standard error (of measurement)."""
    X = m.X
    s, k = X.shape
    top = float(m.maxes.sum())
    out = {"assessment": m.assessment, "n": s, "k": k, "max_score": top}
    nan = float("nan")
    if s == 0 or top == 0:
        return {**out, **dict.fromkeys(["mean", "median", "sd", "alpha", "alpha_se", "alpha_lo",
                                        "alpha_hi", "cic", "er", "se", "se_marks"], nan)}
    T = X.sum(axis=1)
    out["mean"] = 100 * T.mean() / top
    out["median"] = 100 * float(np.median(T)) / top
    if s < 2 or k < 2:
        return {**out, **dict.fromkeys(["sd", "alpha", "alpha_se", "alpha_lo", "alpha_hi", "cic",
                                        "er", "se", "se_marks"], nan)}
    Xc = X - X.mean(axis=0)
    V = (Xc.T @ Xc) / (s - 1)
    var_t = float(V.sum())                 # j'Vj = var(T)
    tr = float(np.trace(V))                # Σ var(x_j)
    sd_t = math.sqrt(var_t) if var_t > 0 else 0.0
    out["sd"] = 100 * sd_t / top
    if var_t <= 0:
        return {**out, **dict.fromkeys(["alpha", "alpha_se", "alpha_lo", "alpha_hi", "cic", "er",
                                        "se", "se_marks"], nan)}
    alpha = k / (k - 1) * (1 - tr / var_t)
    tr2 = float((V * V).sum())             # tr(V²)
    jv2j = float((V.sum(axis=1) ** 2).sum())  # j'V²j
    q = 2 * k ** 2 / ((k - 1) ** 2 * var_t ** 3) * (var_t * (tr2 + tr ** 2) - 2 * tr * jv2j)
    ase = math.sqrt(q / s) if q > 0 else nan
    cic = 100 * alpha
    er = 100 * math.sqrt(1 - alpha) if alpha <= 1 else nan
    out.update(alpha=alpha, alpha_se=ase, alpha_lo=alpha - 1.96 * ase, alpha_hi=min(1.0, alpha + 1.96 * ase),
               cic=cic, er=er, se=er * out["sd"] / 100, se_marks=er * sd_t / 100)
    return out


def paper_reading(row) -> str:
    parts = []
    cic = row.get("cic", float("nan"))
    if np.isfinite(cic):
        parts.append("信度满意(CIC>75)" if cic > CIC_GOOD else "信度不满意(CIC<64)" if cic < CIC_BAD
                     else "信度尚可(CIC 64–75)")
    mean, sd = row.get("mean", float("nan")), row.get("sd", float("nan"))
    if np.isfinite(mean):
        parts.append("平均分在 50–75% 内" if 50 <= mean <= 75 else "平均分不在 50–75% 内")
    if np.isfinite(sd):
        parts.append("SD 在 12–18% 内" if 12 <= sd <= 18 else "SD 不在 12–18% 内")
    return "；".join(parts)


# ---- answers → bank options ----------------------------------------------------------

def bank_choice(kind: str, answer, perm: str) -> str | None:
    """The bank option(s) a typed answer chose: sorted bank letters for 单选/多选 (the form's
    displayed letters mapped back through `perm`, perm[k] = bank letter shown at position k),
    对/错 for 判断; '' when blank, '?' when unreadable; None for other types."""
    if kind in CHOICE:
        perm = perm or ""
        shown = string.ascii_uppercase[:len(perm)] if perm else "ABCDEF"
        got = choice_letters(answer, shown)
        if got is None:
            return "?"
        if not got:
            return ""
        return "".join(sorted(perm[shown.index(ch)] if perm else ch for ch in got))
    if kind == "判断":
        text = _text(answer)
        if text is None:
            return "?"
        if not text:
            return ""
        v = truth_value(answer)
        return "?" if v is None else ("对" if v else "错")
    return None


def _letters(opt: str, kind: str) -> list[str]:
    if opt == "":
        return [BLANK]
    if opt == "?":
        return [UNREADABLE]
    if kind == "判断":
        return [opt]
    return list(opt)


# ---- the whole analysis ---------------------------------------------------------------

@dataclass
class Analysis:
    items: pd.DataFrame        # one row per assessment × cell
    papers: pd.DataFrame       # one row per assessment
    bank: pd.DataFrame         # one row per bank item, pooled across forms and rounds
    distractors: pd.DataFrame  # one row per assessment × cell × option
    bank_distractors: pd.DataFrame  # one row per bank item × bank option, pooled


def analyse(df: pd.DataFrame, info: pd.DataFrame | None = None) -> Analysis:
    """Every item and paper statistic of the exam rows of a results table.

    `info` (optional, indexed by bank item id) may give `n_options`, `keys` (number of key
    letters) and `scoring` for the random guess score; otherwise the number of options is
    the length of the form's `perm` (4 when unknown) and the key is read from the answers
    that earned full marks."""
    prep = prepare(df)
    mats = matrices(df, prep)
    meta = _assessment_meta(prep.rows)
    item_frames, paper_rows = [], []
    a_index = {n: i for i, n in enumerate(prep.a_names)}
    G = np.full((len(prep.a_names), len(prep.w_names)), -1, dtype=np.int8)   # 0 mid, 1 upper, 2 lower
    TOT = np.full(G.shape, np.nan)
    for m in mats:
        item_frames.append(item_statistics(m))
        paper_rows.append(paper_statistics(m))
        up, lo = groups(m)
        grp = np.zeros(len(m.workers), dtype=np.int8)
        grp[lo] = 2
        grp[up] = 1
        ai = a_index[m.assessment]
        G[ai, m.w_codes] = grp
        top = m.maxes.sum()
        TOT[ai, m.w_codes] = 100 * m.totals / top if top else np.nan
    items = pd.concat(item_frames, ignore_index=True) if item_frames else pd.DataFrame(
        columns=["assessment", "cell", "item", "type", "skills", "max_score", "n", "facility", "sd",
                 "di", "de", "ebel_d", "p_upper", "p_lower"])
    papers = pd.DataFrame(paper_rows)
    dis = distractors(prep, G, TOT)
    keys = dis.attrs.get("keys", {})
    items = items.merge(meta, on="assessment", how="left")
    items["guess"] = _guess(items, prep.rows, keys, info)
    items["reading"] = items["facility"].map(facility_reading)
    items["ebel_reading"] = items["ebel_d"].map(ebel_reading)
    flagged = _distractor_flags(dis)
    sev, why = [], []
    for r in items.to_dict("records"):
        sv, w = flag(r, flagged.get((r["assessment"], r["cell"]), []))
        sev.append(sv)
        why.append(w)
    items["severity"], items["flags"] = sev, why
    if not papers.empty:
        papers = meta.merge(papers, on="assessment", how="right")
        papers["reading"] = [paper_reading(r) for r in papers.to_dict("records")]
    pooled = pool_distractors(dis)
    return Analysis(items=items, papers=papers, bank=bank_table(items, pooled),
                    distractors=dis, bank_distractors=pooled)


def _assessment_meta(d: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in ("assessment", "paper", "round", "form", "date") if c in d.columns]
    _, first = np.unique(codes(d["assessment"])[0], return_index=True)
    m = d[cols].iloc[first]
    for c in cols:
        m[c] = m[c].astype(str)
    return m.sort_values("assessment").reset_index(drop=True)


def _guess(items: pd.DataFrame, d: pd.DataFrame, keys: dict[str, str], info) -> list[float]:
    perms = {}
    if "perm" in d.columns:
        ic, inames = codes(d["item"])
        pc, pnames = codes(d["perm"])
        _, first = np.unique(ic, return_index=True)
        perms = dict(zip(inames[ic[first]], pnames[pc[first]]))
    out = []
    for r in items.itertuples(index=False):
        k = m = None
        scoring = "partial"
        if info is not None and r.item in info.index:
            row = info.loc[r.item]
            k = _int_or_none(row.get("n_options"))
            m = _int_or_none(row.get("keys"))
            sc = row.get("scoring")
            scoring = sc if isinstance(sc, str) and sc else "partial"
        if k is None and perms.get(r.item):
            k = len(perms[r.item])
        if m is None and keys.get(r.item):
            m = len(keys[r.item])
        out.append(guess_score(r.type, k, m, scoring))
    return out


def _int_or_none(v) -> int | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return int(v) if np.isfinite(v) and v > 0 else None


def flag(r: dict, distractor_flags: list[str]) -> tuple[str, str]:
    """Severity and reasons of one item row (thresholds of the reference, named in each reason)."""
    reasons: list[tuple[int, str]] = []
    f, di, de, d, g = (r.get(x, np.nan) for x in ("facility", "di", "de", "ebel_d", "guess"))
    fin = lambda v: v is not None and np.isfinite(v)  # noqa: E731
    if fin(f) and f <= FACILITY_BROKEN:
        reasons.append((0, f"得分率P≤{FACILITY_BROKEN:g}%：极难或题目有误"))
    if fin(di) and di < 0:
        reasons.append((0, "区分度DI为负：高分者反而更易失分，先核对答案"))
    if fin(de) and de < DE_DUBIOUS:
        reasons.append((0, f"区分效率DE<{DE_DUBIOUS:g}%：可疑题"))
    if fin(d) and d < 0.20 - 1e-9:
        reasons.append((0, "Ebel D≤0.19：应淘汰"))
    for txt in distractor_flags:
        reasons.append((0, txt))
    if fin(di) and 0 <= di < DI_VERY_LIKELY:
        reasons.append((1, f"DI<{DI_VERY_LIKELY:g}%：很可能需要检查"))
    if fin(d) and 0.20 - 1e-9 <= d < 0.30 - 1e-9:
        reasons.append((1, "Ebel D 0.20–0.29：需修改"))
    if fin(g) and g > GUESS_MAX:
        reasons.append((1, f"随机猜测得分>{GUESS_MAX:g}%"))
    if fin(f) and f >= FACILITY_TRIVIAL:
        reasons.append((1, f"得分率P≥{FACILITY_TRIVIAL:g}%：极易"))
    if fin(di) and DI_VERY_LIKELY <= di < DI_LIKELY:
        reasons.append((2, f"DI<{DI_LIKELY:g}%：可能需要检查"))
    if not reasons:
        return SEVERITY[3], ""
    level = min(x for x, _ in reasons)
    return SEVERITY[level], "；".join(t for _, t in reasons)


def bank_table(items: pd.DataFrame, pooled_distractors: pd.DataFrame | None = None) -> pd.DataFrame:
    """Items traced back to bank ids across rounds and forms: where each appeared, pooled
    n, n-weighted means of facility, SD, DI, DE and D, the conclusion from the pooled
    figures, and in how many appearances the item was marked 应复查."""
    cols = ["item", "type", "skills", "forms", "n", "facility", "sd", "di", "de", "ebel_d", "guess",
            "severity", "flags", "severe_in"]
    if items.empty:
        return pd.DataFrame(columns=cols)
    dflags: dict[str, list[str]] = {}
    if pooled_distractors is not None and not pooled_distractors.empty:
        f = pooled_distractors[pooled_distractors["flag"] == "高分组比低分组选得多"]
        for r in f.itertuples(index=False):
            dflags.setdefault(r.item, []).append(
                f"干扰项 {r.option}：高分组({r.pct_upper:.0f}%)比低分组({r.pct_lower:.0f}%)选得多")
    rows = []
    for item, g in items.groupby("item", sort=True):
        w = g["n"].to_numpy(dtype=float)

        def wmean(col):
            v = g[col].to_numpy(dtype=float)
            ok = np.isfinite(v) & (w > 0)
            return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")
        row = {"item": item, "type": g["type"].iloc[0], "skills": g["skills"].iloc[0],
               "forms": "、".join(f"{a}/{c}" for a, c in zip(g["assessment"], g["cell"])),
               "n": int(w.sum()), "facility": wmean("facility"), "sd": wmean("sd"), "di": wmean("di"),
               "de": wmean("de"), "ebel_d": wmean("ebel_d"), "guess": float(g["guess"].iloc[0])}
        row["severity"], row["flags"] = flag(row, dflags.get(item, []))
        row["severe_in"] = f"{int((g['severity'] == SEVERITY[0]).sum())}/{len(g)}"
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def distractors(prep: Prepared, G: np.ndarray, TOT: np.ndarray) -> pd.DataFrame:
    """Per assessment × cell × bank option: how many chose it, overall and in the upper and
    lower 27 % (by total on that assessment), and the mean total (%) of those who chose it.
    A 多选 answer counts for each option in it; blanks and unreadable answers get rows of
    their own; an option nobody chose still gets a row (perm gives the options).
    `G[a, w]` is each attempt's group (1 upper, 2 lower, 0 middle, −1 not analysed) and
    `TOT[a, w]` its total (%), from the response matrices."""
    cols = ["assessment", "cell", "item", "type", "option", "key", "n", "pct", "pct_upper",
            "pct_lower", "mean_total", "flag", "upper", "lower", "attempts", "size_upper", "size_lower"]
    empty = pd.DataFrame(columns=cols)
    empty.attrs["keys"] = {}
    rows = prep.rows
    if "answer" not in rows.columns or len(rows) == 0:
        return empty
    t_c, t_n = codes(rows["type"])
    sel = np.isin(t_n, list(CHOICE) + ["判断"])[t_c]
    sel &= G[prep.a, prep.w] >= 0
    if not sel.any():
        return empty
    idx = np.flatnonzero(sel)
    a, w, c = prep.a[idx], prep.w[idx], prep.c[idx]
    ans_c, ans_n = codes(rows["answer"])
    if "perm" in rows.columns:
        perm_c, perm_n = codes(rows["perm"])
    else:
        perm_c, perm_n = np.zeros(len(rows), np.int64), np.array([""], dtype=object)
    tc, ac, pc = t_c[idx], ans_c[idx], perm_c[idx]
    combo = (tc * (len(ans_n) + 1) + ac) * (len(perm_n) + 1) + pc
    inv, uc = pd.factorize(combo)
    parsed = []
    for k in uc:
        rest, p_ = divmod(int(k), len(perm_n) + 1)
        t_, a_ = divmod(rest, len(ans_n) + 1)
        parsed.append(bank_choice(t_n[t_], ans_n[a_], perm_n[p_]))
    opt_names, opt_of_combo = np.unique(np.array(parsed, dtype=object).astype(str), return_inverse=True)
    opt = opt_of_combo[inv]
    n_opt = len(opt_names)
    grp = G[a, w]
    tot = TOT[a, w]
    full = prep.score[idx] >= prep.maxs[idx] - 1e-9
    item_c, item_n = codes(rows["item"])
    it = item_c[idx]
    # the key of each bank item: the option set that earned full marks most often
    real = ~np.isin(opt_names, ["", "?"])[opt]
    kk = it[full & real] * n_opt + opt[full & real]
    kcount = np.bincount(kk, minlength=len(item_n) * n_opt).reshape(len(item_n), n_opt)
    keys = {item_n[i]: opt_names[kcount[i].argmax()] for i in np.flatnonzero(kcount.sum(axis=1))}
    # counts per assessment × cell × chosen set × group (few distinct keys)
    nc = len(prep.c_names)
    key = ((a * nc + c) * n_opt + opt) * 3 + grp
    kinv, uk = pd.factorize(key)
    cnt = np.bincount(kinv)
    sm = np.bincount(kinv, weights=np.nan_to_num(tot))
    rest, g_ = np.divmod(uk, 3)
    rest, o_ = np.divmod(rest, n_opt)
    a_, c_ = np.divmod(rest, nc)
    # item and type of each (assessment, cell)
    ac_key = a * nc + c
    ac_inv, uac = pd.factorize(ac_key)
    first = np.full(len(uac), -1)
    first[ac_inv[::-1]] = np.arange(len(ac_key))[::-1]
    item_of = dict(zip(uac, item_n[it[first]]))
    type_of = dict(zip(uac, t_n[tc[first]]))
    perm_of = dict(zip(uac, perm_n[pc[first]]))
    attempts = dict(zip(uac, np.bincount(ac_inv)))
    acs = a_ * nc + c_
    agg = pd.DataFrame({"ac": acs, "assessment": prep.a_names[a_], "cell": prep.c_names[c_],
                        "item": [item_of[x] for x in acs], "type": [type_of[x] for x in acs],
                        "opt": opt_names[o_], "group": g_, "c": cnt, "s": sm})
    agg["option"] = [_letters(o, t) for o, t in zip(agg["opt"], agg["type"])]
    agg = agg.explode("option")
    for g, code in (("upper", 1), ("lower", 2), ("middle", 0)):
        agg[g] = np.where(agg["group"] == code, agg["c"], 0)
    keycols = ["ac", "assessment", "cell", "item", "type"]
    out = agg.groupby(keycols + ["option"], as_index=False)[["upper", "lower", "middle", "c", "s"]].sum()
    # options nobody chose: every option of the form (perm), 对/错 for 判断
    full_rows = []
    for x in uac:
        t_, p_ = type_of[x], perm_of[x]
        opts = sorted(p_) if t_ in CHOICE and p_ else (["对", "错"] if t_ == "判断" else [])
        a0, c0 = divmod(int(x), nc)
        full_rows += [(x, prep.a_names[a0], prep.c_names[c0], item_of[x], t_, o) for o in opts]
    if full_rows:
        out = out.merge(pd.DataFrame(full_rows, columns=keycols + ["option"]), on=keycols + ["option"],
                        how="outer")
        out[["upper", "lower", "middle", "c", "s"]] = out[["upper", "lower", "middle", "c", "s"]].fillna(0)
    size_u = (G == 1).sum(axis=1)
    size_l = (G == 2).sum(axis=1)
    a_of = out["ac"].to_numpy(dtype=np.int64) // nc
    out["attempts"] = [attempts[x] for x in out["ac"]]
    out["size_upper"], out["size_lower"] = size_u[a_of], size_l[a_of]
    out["n"] = out["c"].astype(int)
    out["upper"] = out["upper"].astype(int)
    out["lower"] = out["lower"].astype(int)
    out["pct"] = 100 * out["n"] / out["attempts"]
    out["pct_upper"] = 100 * out["upper"] / out["size_upper"].where(out["size_upper"] > 0)
    out["pct_lower"] = 100 * out["lower"] / out["size_lower"].where(out["size_lower"] > 0)
    out["mean_total"] = out["s"] / out["n"].where(out["n"] > 0)
    out["key"] = [(o in keys.get(i, "")) if t in CHOICE else (o == keys.get(i))
                  for o, i, t in zip(out["option"], out["item"], out["type"])]
    out.loc[out["option"].isin([BLANK, UNREADABLE]), "key"] = False
    out["key"] = out["key"].astype(bool)
    out["flag"] = _flag_options(out)
    out = out.sort_values(["assessment", "cell", "option"], key=_option_sort).reset_index(drop=True)
    res = out[cols]
    res.attrs["keys"] = keys
    return res


def _flag_options(t: pd.DataFrame) -> np.ndarray:
    distractor = ~t["key"] & ~t["option"].isin([BLANK, UNREADABLE])
    return np.where(distractor & (t["pct_upper"] > t["pct_lower"]), "高分组比低分组选得多",
                    np.where(distractor & (t["n"] == 0), "无人选择", ""))


def _option_sort(s: pd.Series) -> pd.Series:
    if s.name != "option":
        return s
    order = {BLANK: "~1", UNREADABLE: "~2"}
    return s.map(lambda v: order.get(v, v))


def _distractor_flags(dis: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = {}
    if dis.empty:
        return out
    f = dis[dis["flag"] == "高分组比低分组选得多"]
    for r in f.itertuples(index=False):
        out.setdefault((r.assessment, r.cell), []).append(
            f"干扰项 {r.option}：高分组({r.pct_upper:.0f}%)比低分组({r.pct_lower:.0f}%)选得多")
    return out


def pool_distractors(dis: pd.DataFrame) -> pd.DataFrame:
    """Distractor counts per bank item and bank option, summed over rounds and forms
    (groups are formed within each assessment, then counted together)."""
    cols = ["item", "type", "option", "key", "n", "pct", "pct_upper", "pct_lower", "mean_total", "flag"]
    if dis.empty:
        return pd.DataFrame(columns=cols)
    att = dis.drop_duplicates(["assessment", "cell"]).groupby("item")[["attempts", "size_upper", "size_lower"]].sum()
    g = dis.groupby(["item", "type", "option"], observed=True).agg(
        n=("n", "sum"), upper=("upper", "sum"), lower=("lower", "sum"), key=("key", "max")).reset_index()
    tot = (dis["mean_total"].fillna(0) * dis["n"]).groupby([dis["item"], dis["type"], dis["option"]]).sum()
    g = g.join(att, on="item")
    g["pct"] = 100 * g["n"] / g["attempts"]
    g["pct_upper"] = 100 * g["upper"] / g["size_upper"].where(g["size_upper"] > 0)
    g["pct_lower"] = 100 * g["lower"] / g["size_lower"].where(g["size_lower"] > 0)
    g["mean_total"] = tot.reindex(pd.MultiIndex.from_frame(g[["item", "type", "option"]])).to_numpy() / g["n"]
    g["key"] = g["key"].astype(bool)
    g["flag"] = _flag_options(g)
    return g.sort_values(["item", "option"], key=_option_sort)[cols].reset_index(drop=True)


def labelled(df: pd.DataFrame, labels: dict[str, str] | None = None, digits: int = 1) -> pd.DataFrame:
    """A table for people: Chinese column labels that name each definition; rounded."""
    labels = labels or LABELS
    keep = [c for c in labels if c in df.columns]
    out = df[keep].copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].round(3 if c in ("ebel_d", "alpha", "alpha_se", "alpha_lo", "alpha_hi") else digits)
    return out.rename(columns=labels)


def info_from_bank(items) -> pd.DataFrame:
    """`analyse` info from bank items (shequ.bank.Item): options, key letters, scoring."""
    rows = []
    for it in items:
        keys = len(it.answer) if it.type in CHOICE and isinstance(it.answer, str) else None
        rows.append({"item": it.id, "n_options": len(it.options) or None, "keys": keys,
                     "scoring": it.scoring})
    return pd.DataFrame(rows).set_index("item")


def info_for(df: pd.DataFrame) -> pd.DataFrame | None:
    """Bank facts (options, key letters, scoring) for the items of `df` that are in the
    bank; None when the bank cannot be read or holds none of them."""
    from .. import bank

    try:
        items = bank.load_ok()
    except Exception:  # a broken bank must not stop the report: guess scores fall back
        return None
    ids = set(map(str, df["item"].unique()))
    chosen = [it for it in items if it.id in ids]
    return info_from_bank(chosen) if chosen else None


def fingerprint(df: pd.DataFrame) -> tuple:
    """Cheap identity of a results table (rows, workers, assessments, total score)."""
    return (len(df), int(df["worker_id"].nunique()), int(df["assessment"].nunique()),
            round(float(np.nansum(df["score"].to_numpy(dtype=float))), 6))


def save_analysis(ana: Analysis, df: pd.DataFrame, path) -> None:
    """Hand an analysis to another process (the report's notebook kernel) with the
    fingerprint of the table it was computed from."""
    import pickle

    with open(path, "wb") as f:
        pickle.dump({"fingerprint": fingerprint(df), "analysis": ana}, f, protocol=pickle.HIGHEST_PROTOCOL)


def analysis_for(df: pd.DataFrame, path=None, info: pd.DataFrame | None = None) -> Analysis:
    """The analysis of `df`: read from `path` when it was saved (by `save_analysis`, in this
    report run) from the same table, else computed."""
    import os
    import pickle

    if path and os.path.exists(path):
        with open(path, "rb") as f:
            saved = pickle.load(f)   # our own file, written by report.render in its work folder
        if saved.get("fingerprint") == fingerprint(df):
            return saved["analysis"]
    return analyse(df, info if info is not None else info_for(df))

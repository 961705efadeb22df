"""Seeded simulation of the district's workers taking exam rounds (for the demo and tests).

Model (documented in the README): each worker has an ability per skill,
θ = general ability + skill deviation + role effect; each 社区 has its own learning gain
per round; an item of estimated facility P has difficulty b = −logit(P); the chance of a
correct answer in round k is sigmoid(θ + k·gain − b). Some workers are absent in a round,
some answers are left blank, and answers are typed the many ways Chinese input methods
produce them. The simulation records the score it intends each answer to earn, so the
real pipeline's scores can be checked against it.

`Realism` adds what a real district has and the defaults leave out (bench/recovery.py):
a shift in ability per 街道, learning that differs by skill (a multiplier per skill and
noise per 社区 × skill), and an absence rate per round. Without it (`realism=None`) the
cohort, the answers and `district_results` are exactly what they always were.
"""
from __future__ import annotations

import json
import math
import random
import string
from dataclasses import dataclass, field

import nbformat

ABSENT = 0.06   # chance a worker misses a round
BLANK = 0.03    # chance an answer is left blank
ROLE_EFFECT = {"信息员": {"collection": 0.5, "quality": 0.5, "website": 0.6, "network": 0.5, "privacy": 0.3},
               "网格员": {"collection": 0.4, "quality": 0.2},
               "书记": {"governance": 0.5, "policy": 0.4},
               "主任": {"governance": 0.4, "service": 0.3, "assistance": 0.3}}


@dataclass(frozen=True)
class Realism:
    """Options a real district has (all off by default).

    street_sd: SD (logits) of a shift in ability shared by every worker of a 街道.
    skill_gain: (low, high) range of a per-skill multiplier of each 社区's gain, drawn
        uniformly per skill; None = every skill learns at the 社区's rate.
    skill_gain_sd: SD (logits per round) of extra noise per 社区 × skill gain.
    absent: chance of missing a round, one number or one per round (the last repeats).
    """
    street_sd: float = 0.0
    skill_gain: tuple[float, float] | None = None
    skill_gain_sd: float = 0.0
    absent: float | tuple[float, ...] = ABSENT


# what bench/recovery.py simulates: streets differ by ~0.4 logit, some skills learn at a
# third of the pace and others at one and a half, absence grows with each follow-up round
REALISTIC = Realism(street_sd=0.4, skill_gain=(0.3, 1.5), skill_gain_sd=0.1, absent=(0.05, 0.10, 0.15))


@dataclass
class Cohort:
    workers: list[dict[str, str]]
    ability: dict[tuple[str, str], float]
    gain: dict[str, float]              # 社区 -> learning gain (logits per round)
    seed: int
    broken_items: set[str] = field(default_factory=set)
    # (社区, skill) -> gain; when set it replaces `gain` for that skill (Realism.skill_gain)
    skill_gain: dict[tuple[str, str], float] = field(default_factory=dict)
    street_shift: dict[str, float] = field(default_factory=dict)
    absent: float | tuple[float, ...] | None = None   # None: the module's ABSENT
    papers: list[list[dict]] = field(default_factory=list)   # round manifests (district_results)

    def absent_rate(self, k: int) -> float:
        if self.absent is None:
            return ABSENT
        if isinstance(self.absent, (int, float)):
            return float(self.absent)
        return float(self.absent[min(k, len(self.absent) - 1)])

    def learning(self, community: str, skills: list[str]) -> float:
        """Gain per round (logits) of a 社区 on an item with these skills."""
        if not self.skill_gain:
            return self.gain[community]
        return sum(self.skill_gain[(community, s)] for s in skills) / len(skills)


def make_cohort(workers: list[dict[str, str]], skills: list[str], seed: int = 7,
                realism: Realism | None = None) -> Cohort:
    rng = random.Random(seed)
    communities = sorted({w["community"] for w in workers})
    gain = {c: round(rng.uniform(0.0, 0.9), 3) for c in communities}
    ability = {}
    for w in workers:
        g = rng.gauss(0.0, 0.8)
        for s in skills:
            ability[(w["worker_id"], s)] = g + rng.gauss(0.0, 0.4) + ROLE_EFFECT.get(w["role"], {}).get(s, 0.0)
    cohort = Cohort(workers, ability, gain, seed)
    if realism is not None:
        _add_realism(cohort, skills, realism)
    return cohort


def _add_realism(cohort: Cohort, skills: list[str], r: Realism) -> None:
    # its own random stream: the default draws above stay the same with or without it
    rng = random.Random(f"{cohort.seed}-realism")
    streets = sorted({w["street"] for w in cohort.workers})
    cohort.street_shift = {s: rng.gauss(0.0, r.street_sd) if r.street_sd else 0.0 for s in streets}
    for w in cohort.workers:
        for s in skills:
            cohort.ability[(w["worker_id"], s)] += cohort.street_shift[w["street"]]
    if r.skill_gain is not None or r.skill_gain_sd:
        lo, hi = r.skill_gain or (1.0, 1.0)
        mult = {s: rng.uniform(lo, hi) for s in skills}
        cohort.skill_gain = {(c, s): max(0.0, g * mult[s] + rng.gauss(0.0, r.skill_gain_sd))
                             for c, g in sorted(cohort.gain.items()) for s in skills}
    cohort.absent = r.absent


def p_correct(cohort: Cohort, worker: dict, skills: list[str], facility: float, k: int) -> float:
    theta = sum(cohort.ability[(worker["worker_id"], s)] for s in skills) / len(skills)
    f = min(max(facility, 0.02), 0.98)
    b = -math.log(f / (1 - f))
    return 1 / (1 + math.exp(-(theta + k * cohort.learning(worker["community"], skills) - b)))


# ---- how people type ---------------------------------------------------------------------

def _fullwidth(s: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in s)


def style_letters(letters: str, rng: random.Random) -> str:
    ls = list(letters)
    rng.shuffle(ls)
    form = rng.randrange(8)
    if form == 0:
        return "".join(sorted(letters))
    if form == 1:
        return "".join(ls).lower()
    if form == 2:
        return f" {''.join(ls)} "
    if form == 3:
        return _fullwidth("".join(ls))
    if form == 4:
        return "、".join(ls)
    if form == 5:
        return ",".join(x.lower() for x in ls)
    if form == 6:
        return "；".join(ls)
    return " ".join(ls)


TRUE_STYLES = ["对", "√", "正确", "T", "t", "对。"]
FALSE_STYLES = ["错", "×", "错误", "F", "f", "错。"]


def style_truth(value: bool, rng: random.Random) -> str:
    return rng.choice(TRUE_STYLES if value else FALSE_STYLES)


def style_fill(variants: list[list[str]], rng: random.Random) -> str:
    parts = []
    for v in variants:
        s = str(rng.choice(v))
        if rng.random() < 0.2:
            s = _fullwidth(s)
        if rng.random() < 0.2:
            s = f" {s} "
        parts.append(s)
    return rng.choice(["；", ";", "，"]).join(parts)


WRONG_FILL = ["不知道", "不清楚", "无", "待查"]


def answer_item(cell: dict, correct: bool, rng: random.Random) -> tuple[str, float]:
    """A typed answer and the score it is meant to earn."""
    pts, kind, key = cell["points"], cell["type"], cell["key"]
    letters = string.ascii_uppercase[:len(cell["perm"])]
    if rng.random() < BLANK:
        return "", 0.0
    if kind == "单选":
        if correct:
            return style_letters(key, rng), pts
        return style_letters(rng.choice([x for x in letters if x != key]), rng), 0.0
    if kind == "多选":
        if correct:
            return style_letters(key, rng), pts
        if len(key) > 2 and rng.random() < 0.4 and cell.get("scoring", "partial") == "partial":
            sub = "".join(sorted(rng.sample(key, len(key) - 1)))
            return style_letters(sub, rng), pts / 2
        wrong = set(rng.sample(letters, rng.randint(1, len(letters))))
        if wrong <= set(key):  # make sure it really holds a wrong letter
            wrong.add(rng.choice([x for x in letters if x not in key]))
        return style_letters("".join(sorted(wrong)), rng), 0.0
    if kind == "判断":
        truth = key == "对"
        return style_truth(truth if correct else not truth, rng), (pts if correct else 0.0)
    if kind == "填空":
        if correct:
            return style_fill(key, rng), pts
        return rng.choice(WRONG_FILL), 0.0
    return "", 0.0


def expected_score(cell: dict, p: float) -> float:
    """The score `answer_item` gives on average when the answer is right with chance p:
    blanks score 0, a wrong 多选 of more than two key letters earns half points 40 % of the
    time under partial scoring (keep in step with `answer_item`)."""
    pts = cell["points"]
    half = (cell["type"] == "多选" and len(cell["key"]) > 2
            and cell.get("scoring", "partial") == "partial")
    return (1 - BLANK) * (p * pts + (1 - p) * (0.4 * pts / 2 if half else 0.0))


def take_paper(cohort: Cohort, manifest: dict, k: int, workers: list[dict] | None = None):
    """Answers of every present worker: {worker_id: {qid: (typed, intended score)}}."""
    rng = random.Random(f"{cohort.seed}-{manifest['assignment']}")
    out = {}
    for w in workers or cohort.workers:
        if rng.random() < cohort.absent_rate(k):
            continue
        ans = {}
        for c in manifest["cells"]:
            if c["type"] == "简答":
                continue
            p = p_correct(cohort, w, c["skills"], c["facility"], k)
            if c["item"] in cohort.broken_items:
                p = 1 - p  # a miskeyed item: the able get it "wrong"
            ans[c["cell"]] = answer_item(c, rng.random() < p, rng)
        out[w["worker_id"]] = ans
    return out


def fill_notebook(released, answers: dict[str, tuple[str, float]]):
    """A copy of the released notebook with the answers typed into their cells."""
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type == "code" and gid in answers:
            cell.source = f"{gid} = {json.dumps(answers[gid][0], ensure_ascii=False)}"
    return nb


def district_results(paper_name: str = "basics", seed: int = 7, workers: int | None = None,
                     out_root=None, realism: Realism | None = None):
    """A results table for the whole district without nbgrader: the same simulated answers,
    scored by `answers.check` (what grading does). For notebooks, tests and benchmarks.
    The cohort keeps the round manifests (`cohort.papers`, per round a list of forms) so
    the truth behind the table can be computed (`synth.truth`)."""
    import pandas as pd

    from .. import bank, paths
    from ..answers import check
    from ..exam import paper
    from ..grading import roster as rostermod

    roster = rostermod.frame()
    rows = roster.to_dict("records")[:workers] if workers else roster.to_dict("records")
    items = bank.load_ok()
    bp = paper.load_blueprint(paper_name)
    out_root = out_root or paths.BUILD / "sim-grading"
    by_round = [paper.build(paper_name, r["label"], bank_items=items, out_root=out_root)
                for r in bp.rounds]
    form_of = paper.assign_forms(rows, len(by_round[0]))
    cohort = make_cohort(rows, list(bank.load_skills()), seed=seed, realism=realism)
    cohort.papers = by_round
    info = roster.set_index("worker_id")
    out = []
    for k, forms in enumerate(by_round):
        for f, m in enumerate(forms):
            cells = {c["cell"]: c for c in m["cells"]}
            takers = [w for w in rows if form_of[w["worker_id"]] == f]
            for wid, ans in take_paper(cohort, m, k, takers).items():
                w = info.loc[wid]
                for q, (typed, _) in ans.items():
                    c = cells[q]
                    out.append({"worker_id": wid, "assessment": m["assignment"], "kind": "exam",
                                "paper": m["paper"], "round": m["round"], "date": m["date"],
                                "form": m["form"], "cell": q, "item": c["item"], "type": c["type"],
                                "level": c["level"], "skills": ";".join(c["skills"]),
                                "score": check(q, typed, c["type"], c["key"], c["points"], c["scoring"]),
                                "answer": typed, "perm": c["perm"],
                                "max_score": c["points"], "street": w["street"],
                                "community": w["community"], "role": w["role"]})
    return pd.DataFrame(out), cohort

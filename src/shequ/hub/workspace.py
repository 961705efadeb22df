"""The start page of everyone's JupyterLab on the district server, in Chinese (/shequ).

A worker sees their assignments (领取 → 打开 → 提交 → 查看反馈); a trainer sees the released
assignments with 收取 / 评分 / 发布反馈. It replaces nbgrader's assignment list, whose panel
has English strings built in. Each step runs nbgrader's or shequ's own command as the
logged-in person (this server runs as their OS account), so the exchange's folder modes
decide what they may do.
"""
from __future__ import annotations

import glob
import html
import json
import os
import subprocess
import sys
from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .layout import Layout
from .server import COURSE_ID

# each step is a command the server runs as the logged-in person ({a} = the assignment)
STEPS_WORKER = {"fetch": ["-m", "nbgrader", "fetch_assignment", "{a}"], "submit": ["-m", "nbgrader", "submit", "{a}"],
                "feedback": ["-m", "nbgrader", "fetch_feedback", "{a}"]}
STEPS_TRAINER = {"collect": ["-m", "shequ", "submissions", "collect", "{a}"], "grade": ["-m", "shequ", "grade", "{a}"],
                 "release": ["-m", "shequ", "feedback", "{a}", "--release"]}
DONE = {"fetch": "已领取", "submit": "已提交", "feedback": "已取回反馈",
        "collect": "已收取", "grade": "已评分", "release": "反馈已发布"}


def _title(folder: Path) -> str:
    """The first heading of the assignment's first notebook, else its id."""
    for nb in sorted(folder.glob("*.ipynb")):
        try:
            cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        except (OSError, ValueError, KeyError):
            continue
        for c in cells:
            if c.get("cell_type") == "markdown":
                for line in "".join(c.get("source", "")).splitlines():
                    if line.startswith("#"):
                        return line.lstrip("#").strip()
    return folder.name


def worker_assignments(exchange: Path, sid: str, home: Path, data_dir: Path) -> list[dict]:
    """Every released assignment and where this worker stands with it."""
    from nbgrader.utils import notebook_hash

    out = []
    outbound = exchange / COURSE_ID / "outbound"
    cache = data_dir / "nbgrader_cache" / COURSE_ID
    for rel in sorted(p for p in outbound.iterdir() if p.is_dir()) if outbound.is_dir() else []:
        a = rel.name
        mine = home / "assignments" / a
        subs = sorted(glob.glob(str(cache / f"{sid}+{a}+*")))
        last = Path(subs[-1]) if subs else None
        ts = last.name.split("+")[2] if last else ""
        ready = False
        if last and (last / "submission_secret.txt").exists():
            secret = (last / "submission_secret.txt").read_text()
            ready = any((exchange / COURSE_ID / "feedback" / sid / f"{notebook_hash(secret=secret, notebook_id=nb.stem)}.html").exists()
                        for nb in last.glob("*.ipynb"))
        fetched_fb = sorted(str(p.relative_to(home)) for p in (mine / "feedback" / ts).glob("*.html")) if ts else []
        out.append({"id": a, "title": _title(rel), "fetched": mine.is_dir(),
                    "notebooks": sorted(str(p.relative_to(home)) for p in mine.glob("*.ipynb")) if mine.is_dir() else [],
                    "submitted": ts, "feedback_ready": ready, "feedback": fetched_fb})
    return out


def trainer_assignments(exchange: Path) -> list[dict]:
    outbound = exchange / COURSE_ID / "outbound"
    inbound = exchange / COURSE_ID / "inbound"
    out = []
    for rel in sorted(p for p in outbound.iterdir() if p.is_dir()) if outbound.is_dir() else []:
        n = len({Path(p).parent.name for p in glob.glob(str(inbound / "*" / f"*+{rel.name}+*"))})
        out.append({"id": rel.name, "title": _title(rel), "handed_in": n})
    return out


def run_step(role: str, step: str, assignment: str, cwd: Path) -> tuple[bool, str]:
    steps = STEPS_WORKER if role == "worker" else STEPS_TRAINER
    if step not in steps or not assignment or "/" in assignment or assignment.startswith("."):
        return False, "不认识的操作。"
    argv = [sys.executable, *(x.replace("{a}", assignment) for x in steps[step])]
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=1800)
    if r.returncode:
        return False, _explain(r.stdout + r.stderr)
    said = [ln for ln in r.stdout.splitlines() if ln.strip()] if role == "trainer" else []
    return True, DONE[step] + "。" + (said[0][:300] if said else "")


def _explain(text: str) -> str:
    """nbgrader speaks English: say in Chinese what went wrong (the detail is in the log)."""
    known = [("already exists", "这份作业已经领取过了，请直接打开。"),
             ("Assignment not found", "找不到这份作业（可能已撤回），请刷新页面。"),
             ("No submissions", "还没有人提交。"),
             ("permission", "没有权限：请联系培训老师。")]
    for needle, msg in known:
        if needle.lower() in text.lower():
            return msg
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    chinese = [ln for ln in lines if any("\u4e00" <= ch <= "\u9fff" for ch in ln)]
    return (chinese[-1] if chinese else "操作没有完成，请稍后重试；仍不行请联系培训老师。")[:300]


class Base(JupyterHandler):
    @property
    def me(self) -> dict:
        e = os.environ
        return {"login": e.get("JUPYTERHUB_USER", ""), "role": e.get("SHEQU_HUB_ROLE", "worker"),
                "name": e.get("SHEQU_HUB_NAME", ""), "street": e.get("SHEQU_HUB_STREET", ""),
                "community": e.get("SHEQU_HUB_COMMUNITY", "")}

    def listing(self) -> list[dict]:
        lay, me = Layout.from_env(), self.me
        if me["role"] == "trainer":
            return trainer_assignments(lay.exchange)
        home = Path(os.environ["HOME"])
        return worker_assignments(lay.exchange, me["login"], home,
                                  Path(os.environ.get("JUPYTER_DATA_DIR", home / ".local/share/jupyter")))


class PageHandler(Base):
    @web.authenticated
    def get(self):
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(page(self.me, self.base_url, self.xsrf_token.decode()))


class ListHandler(Base):
    @web.authenticated
    def get(self):
        self.finish({"me": self.me, "assignments": self.listing()})


class StepHandler(Base):
    @web.authenticated
    async def post(self, step: str, assignment: str):
        me = self.me
        cwd = Path(os.environ["HOME"]) if me["role"] == "worker" else Layout.from_env().course
        ok, msg = await _in_thread(run_step, me["role"], step, assignment, cwd)
        self.set_status(200 if ok else 400)
        self.finish({"ok": ok, "message": msg})


async def _in_thread(fn, *args):
    import asyncio

    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


def _jupyter_server_extension_points():
    return [{"module": "shequ.hub.workspace"}]


def _load_jupyter_server_extension(serverapp):
    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [
        (url_path_join(base, "shequ"), PageHandler),
        (url_path_join(base, "shequ/api/assignments"), ListHandler),
        (url_path_join(base, r"shequ/api/(\w+)/([\w.\-]+)"), StepHandler),
    ])


def page(me: dict, base_url: str, xsrf: str) -> str:
    who = html.escape(" · ".join(filter(None, [me["name"], f"工号 {me['login']}", me["street"], me["community"]])))
    heading = "阅卷台" if me["role"] == "trainer" else "我的作业"
    hub = html.escape(os.environ.get("JUPYTERHUB_BASE_URL", "/") + "hub/")
    return PAGE.format(title=heading, who=who, base=html.escape(base_url), xsrf=html.escape(xsrf),
                       role=html.escape(me["role"]), hub=hub)


PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · 社区信息化培训平台</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; margin: 0; color: #222; }}
header {{ background: #1f5c99; color: #fff; padding: 12px 24px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }}
header h1 {{ font-size: 20px; margin: 0; }} header a {{ color: #fff; }}
main {{ padding: 16px 24px; max-width: 1100px; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ border-bottom: 1px solid #ddd; padding: 8px; text-align: left; }}
button {{ font-size: 15px; padding: 4px 12px; margin-right: 6px; cursor: pointer; }}
#msg {{ min-height: 1.5em; margin: 8px 0; }} .ok {{ color: #176117; }} .bad {{ color: #a11; }}
.hint {{ color: #555; }}
</style></head>
<body data-role="{role}">
<header><h1>社区信息化培训平台 · {title}</h1><span id="who">{who}</span>
<nav><a href="{base}lab">打开 JupyterLab 工作台</a> · <a href="{hub}home">平台首页</a> · <a href="{hub}change-password">修改密码</a> · <a href="{hub}logout">退出</a></nav></header>
<main>
<p class="hint" id="hint"></p>
<div id="msg" role="status"></div>
<table><thead id="head"></thead><tbody id="rows"><tr><td>正在读取……</td></tr></tbody></table>
</main>
<script>
const BASE = "{base}", XSRF = "{xsrf}", ROLE = document.body.dataset.role;
const esc = s => String(s).replace(/[&<>"]/g, c => ({{"&":"&amp;","<":"&lt;",">":"&gt;",'"':"&quot;"}})[c]);
const open = p => BASE + "lab/tree/" + p.split("/").map(encodeURIComponent).join("/");
const file = p => BASE + "files/" + p.split("/").map(encodeURIComponent).join("/");
function btn(step, id, label) {{ return `<button data-step="${{step}}" data-id="${{esc(id)}}">${{label}}</button>`; }}
function workerRow(a) {{
  let state, acts = "";
  if (!a.fetched) {{ state = "可领取"; acts = btn("fetch", a.id, "领取"); }}
  else {{
    state = a.submitted ? "已提交（" + a.submitted.slice(0, 19) + "）" : "已领取，未提交";
    acts = a.notebooks.map(n => `<a href="${{open(n)}}">打开</a>`).join(" ") + " " + btn("submit", a.id, a.submitted ? "再次提交" : "提交");
    if (a.feedback_ready) {{ state += "，反馈已发布"; acts += btn("feedback", a.id, "获取反馈"); }}
    acts += a.feedback.map(f => `<a href="${{file(f)}}" target="_blank">查看反馈</a>`).join(" ");
  }}
  return `<tr><td>${{esc(a.title)}}<br><small>${{esc(a.id)}}</small></td><td>${{state}}</td><td>${{acts}}</td></tr>`;
}}
function trainerRow(a) {{
  return `<tr><td>${{esc(a.title)}}<br><small>${{esc(a.id)}}</small></td><td>已交 ${{a.handed_in}} 人</td><td>` +
    btn("collect", a.id, "收取") + btn("grade", a.id, "评分") + btn("release", a.id, "发布反馈") + `</td></tr>`;
}}
async function load() {{
  // the hub accepts a cookie on a script's request only with the XSRF token (JupyterHub 4.1+)
  const r = await fetch(BASE + "shequ/api/assignments", {{credentials: "same-origin", headers: {{"X-XSRFToken": XSRF}}}});
  const d = await r.json();
  document.getElementById("head").innerHTML = ROLE === "trainer"
    ? "<tr><th>作业</th><th>提交情况</th><th>操作</th></tr>" : "<tr><th>作业</th><th>状态</th><th>操作</th></tr>";
  document.getElementById("hint").textContent = ROLE === "trainer"
    ? "收取：把学员提交的作答收进课程；评分：自动评分并写入成绩库；发布反馈：试卷的成绩反馈发给每个人。人工评分在 JupyterLab 的 Formgrader 中。"
    : "先“领取”，再“打开”作答，做完点“提交”（可多次提交，以最后一次为准）。老师发布反馈后，点“获取反馈”再“查看反馈”。";
  document.getElementById("rows").innerHTML = d.assignments.length
    ? d.assignments.map(ROLE === "trainer" ? trainerRow : workerRow).join("")
    : "<tr><td colspan=3>暂时没有发布的作业。</td></tr>";
}}
document.addEventListener("click", async ev => {{
  const b = ev.target.closest("button[data-step]"); if (!b) return;
  const msg = document.getElementById("msg");
  document.querySelectorAll("button").forEach(x => x.disabled = true);
  msg.className = ""; msg.textContent = "正在处理……";
  try {{
    const r = await fetch(BASE + "shequ/api/" + b.dataset.step + "/" + encodeURIComponent(b.dataset.id),
      {{method: "POST", credentials: "same-origin", headers: {{"X-XSRFToken": XSRF}}}});
    const d = await r.json();
    msg.className = d.ok ? "ok" : "bad"; msg.textContent = d.message;
  }} catch (e) {{ msg.className = "bad"; msg.textContent = "网络中断，请刷新页面后重试。"; }}
  await load();
}});
load();
</script></body></html>
"""

"""Real OS accounts, one per person, and the folder modes that keep them apart.

Why OS accounts: a worker's JupyterLab runs any code they type (a terminal, a kernel), so
only the kernel can stop it reading what it should not. Each person's server runs as their
own account (<prefix><login>); workers share the group <prefix>workers, trainers
<prefix>trainers. The stock nbgrader exchange needs a world-writable inbound folder (nbgrader
#1225); ours gives each worker an inbound and a feedback folder that only they and the
trainers' group can enter (shequ.hub.exchange).

Everything here needs root, as the hub itself does (it starts servers as other users).
"""
from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

from ..errors import ShequError
from .layout import Layout


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise ShequError(f"{what}需要 root 权限（它要为每个人建立系统账号、以各人身份启动服务器）：请用 sudo 运行。")


def _run(*argv: str) -> None:
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode:
        raise ShequError(f"系统命令失败：{' '.join(argv)}：{r.stderr.strip() or r.stdout.strip()}")


def user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def ensure_group(name: str) -> int:
    if not group_exists(name):
        _run("groupadd", "--system", name)
    return grp.getgrnam(name).gr_gid


def ensure_user(name: str, home: Path, group: str) -> pwd.struct_passwd:
    """The OS account `name` with primary group `group` and home `home` (0700, its own).
    No password and no login shell: the hub is the only way in."""
    ensure_group(group)
    if not user_exists(name):
        _run("useradd", "--system", "--no-create-home", "--home-dir", str(home), "--gid", group,
             "--shell", "/usr/sbin/nologin", name)
    else:
        cur = pwd.getpwnam(name)
        if cur.pw_dir != str(home) or cur.pw_gid != grp.getgrnam(group).gr_gid:
            _run("usermod", "--home", str(home), "--gid", group, name)
    pw = pwd.getpwnam(name)
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    os.chmod(home, 0o700)
    return pw


def delete_user(name: str) -> None:
    if user_exists(name):
        _run("userdel", name)


def delete_group(name: str) -> None:
    if group_exists(name):
        _run("groupdel", name)


def members(group: str) -> list[str]:
    """OS accounts whose primary group is `group`."""
    if not group_exists(group):
        return []
    gid = grp.getgrnam(group).gr_gid
    return sorted(p.pw_name for p in pwd.getpwall() if p.pw_gid == gid)


# ---- folder modes ---------------------------------------------------------------------------

def _acl(path: Path, entry: str, remove: bool = False) -> None:
    if not shutil.which("setfacl"):
        raise ShequError("缺少 setfacl：请先安装系统包 acl（apt install acl，或 make system-deps）。")
    _run("setfacl", "-x" if remove else "-m", entry, str(path))


def let_through(layout: Layout, targets: list[Path], remove: bool = False) -> list[Path]:
    """Let the hub's groups pass through (x, not read) every folder above `targets` that
    others cannot pass today, e.g. /root above a venv's interpreter. An ACL entry for the
    two groups only, so nobody else gains anything. Returns the folders changed."""
    changed = []
    for target in targets:
        for d in list(Path(target).resolve().parents)[::-1]:
            if d.stat().st_mode & stat.S_IXOTH:
                continue
            for role in ("worker", "trainer"):
                if remove and not group_exists(layout.group(role)):
                    continue
                _acl(d, f"g:{layout.group(role)}" + ("" if remove else ":x"), remove=remove)
            changed.append(d)
    return changed


def interpreter_dirs() -> list[Path]:
    """Folders a server process must reach: the venv's bin and the real interpreter's home."""
    import sys

    real = Path(os.path.realpath(sys.executable))
    return [Path(sys.prefix), real.parent.parent]


# names at the project's top level a worker's process may read (the library and the venv);
# everything else (exams/ with its keys, grading/, courses/ sources, build/) is closed to them
OPEN_TO_WORKERS = ("src", ".venv")


Changed = list  # [(path, mode, gid)] as they were before: restore() puts them back


def secure_project(layout: Layout) -> Changed:
    """Close the project to workers, open it to trainers.

    Workers (others) may only pass through the project folder and read src/ and .venv/; the
    trainers' group reads the project and writes the course (grading/). Modes and groups
    only: no file's content is changed. Returns what was changed, as it was."""
    tgid = ensure_group(layout.group("trainer"))
    project = layout.project
    changed: Changed = []
    _set(project, 0o751, tgid, changed)
    for entry in project.iterdir():
        if entry.name in OPEN_TO_WORKERS or entry.name == ".git":
            continue
        _close_tree(entry, tgid, writable=False, changed=changed, skip=layout.state)
    _close_tree(layout.course, tgid, writable=True, changed=changed, skip=layout.state)
    # the state folder may sit inside build/: pass-through only down to it
    if layout.state.is_relative_to(project):
        d = project
        for part in layout.state.relative_to(project).parts:
            d = d / part
            if d.exists():
                _set(d, (stat.S_IMODE(d.stat().st_mode)) | 0o001, -1, changed)
    return changed


def restore(changed: Changed) -> None:
    for path, mode, gid in reversed(changed):
        if path.exists() and not path.is_symlink():
            os.chown(path, -1, gid)
            os.chmod(path, mode)


def _set(p: Path, mode: int, gid: int, changed: Changed) -> None:
    st = p.stat()
    if stat.S_IMODE(st.st_mode) == mode and gid in (-1, st.st_gid):
        return
    changed.append((p, stat.S_IMODE(st.st_mode), st.st_gid))
    if gid != -1 and gid != st.st_gid:
        os.chown(p, -1, gid)
    os.chmod(p, mode)


def _close_tree(top: Path, gid: int, writable: bool, changed: Changed, skip: Path) -> None:
    """o-rwx on everything under top but the hub's state folder (whose modes server.prepare
    sets); group = trainers with g+rX (g+rwX and setgid folders when writable, so several
    trainers can grade the same course)."""
    if not top.exists():
        return
    for p in [top, *top.rglob("*")] if top.is_dir() else [top]:
        if p.is_symlink() or p == skip or p.is_relative_to(skip):
            continue
        st = p.stat()
        mode = stat.S_IMODE(st.st_mode) & ~0o007
        if p.is_dir():
            mode |= 0o050 | (0o2020 if writable else 0)
        else:
            mode |= 0o040 | (0o020 if writable else 0)
        _set(p, mode, gid, changed)


def own(path: Path, user: str | None, group: str | None, mode: int) -> None:
    uid = pwd.getpwnam(user).pw_uid if user else -1
    gid = grp.getgrnam(group).gr_gid if group else -1
    os.chown(path, uid, gid)
    os.chmod(path, mode)

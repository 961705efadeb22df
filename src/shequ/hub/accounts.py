"""Hub accounts from the roster: one per worker (login = 工号) and per trainer.

The roster goes through the one roster reader (shequ.grading.roster) with its all-or-nothing
checks. Each person gets an OS account (shequ.hub.system), a nativeauthenticator login in
the hub database and a row in shequ_accounts (name, 街道, 社区, role). First passwords are
generated here and written only to one workbook per 街道 under the state's passwords/
folder (root only); they are never printed or logged. An account whose person has grades
is never deleted.
"""
from __future__ import annotations

import csv
import datetime as dt
import functools
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from .. import paths, sheets
from ..errors import ShequError
from . import system
from .layout import Layout, check_login

TRAINER_ROLE = "培训师"                        # 岗位 on the roster that makes a trainer
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
PASSWORD_LEN = 10

meta = sa.MetaData()
ACCOUNTS = sa.Table(
    "shequ_accounts", meta,
    sa.Column("login", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("street", sa.String(64), nullable=False, default=""),
    sa.Column("community", sa.String(64), nullable=False, default=""),
    sa.Column("role", sa.String(16), nullable=False),
)


@dataclass(frozen=True)
class Person:
    login: str
    name: str
    street: str
    community: str
    role: str   # "worker" | "trainer"


@dataclass
class Everyone:
    people: list[Person]
    rows: list[dict]          # the roster's rows of the workers (for the gradebook's students)


@dataclass
class SyncReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)        # not on the roster, but has grades
    password_files: list[Path] = field(default_factory=list)


def default_trainers() -> Path:
    return paths.DATASETS / "trainers.csv"


def people(roster_path: Path | str | None = None, trainers_path: Path | str | None = None) -> Everyone:
    """Everyone who gets an account, checked; raises with every problem found."""
    from ..grading import roster

    loaded = roster.load(roster_path)
    if loaded.problems:
        raise ShequError("花名册有问题，没有建立或修改任何账号（改正后重新运行）：\n"
                         + "\n".join(f"  {p}" for p in loaded.problems))
    out: dict[str, Person] = {}
    problems = []
    for r in loaded.rows:
        role = "trainer" if r.get("role") == TRAINER_ROLE else "worker"
        try:
            out[check_login(r["worker_id"])] = Person(r["worker_id"], r["name"], r["street"], r["community"], role)
        except ShequError as e:
            problems.append(f"花名册第 {r['row']} 行：{e}")
    tpath = Path(trainers_path) if trainers_path else default_trainers()
    if tpath.exists():
        with open(tpath, encoding="utf-8-sig", newline="") as f:
            for n, r in enumerate(csv.DictReader(f), start=2):
                login, name = (r.get("worker_id") or "").strip(), (r.get("name") or "").strip()
                if not login or not name:
                    problems.append(f"{tpath.name} 第 {n} 行：缺少 worker_id 或 name")
                    continue
                if login in out and out[login].role == "worker":
                    problems.append(f"{tpath.name} 第 {n} 行：{login} 已是花名册上的社区工作者，不能同时是培训师")
                    continue
                try:
                    out[check_login(login)] = Person(login, name, r.get("unit", "").strip(), "", "trainer")
                except ShequError as e:
                    problems.append(f"{tpath.name} 第 {n} 行：{e}")
    elif trainers_path:
        raise ShequError(f"找不到培训师名单 {tpath}")
    if problems:
        raise ShequError("名单有问题，没有建立或修改任何账号（改正后重新运行）：\n"
                         + "\n".join(f"  {p}" for p in problems))
    return Everyone(list(out.values()), [r for r in loaded.rows if out[r["worker_id"]].role == "worker"])


# ---- the hub database ------------------------------------------------------------------------

def session(layout: Layout):
    """A session on the hub database (created, with JupyterHub's own schema, if new)."""
    import logging

    import nativeauthenticator.orm  # noqa: F401  (registers users_info on JupyterHub's Base)
    from jupyterhub import orm

    logging.getLogger("alembic").setLevel(logging.WARNING)   # its stamp notice is not for users

    layout.private.mkdir(parents=True, exist_ok=True)
    factory = orm.new_session_factory(layout.db_url)
    db = factory()
    meta.create_all(db.get_bind(), checkfirst=True)
    return db


def _hash(password: str) -> bytes:
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt())


def new_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LEN))


def graded_ids(url: str) -> set[str]:
    """Workers with at least one submission in the gradebook."""
    from ..grading import gradebook

    if not gradebook.exists(url):
        return set()
    engine = sa.create_engine(url)
    try:
        with engine.connect() as con:
            if "submitted_assignment" not in sa.inspect(con).get_table_names():
                return set()
            return {r[0] for r in con.execute(sa.text("SELECT DISTINCT student_id FROM submitted_assignment"))}
    finally:
        engine.dispose()


def existing(layout: Layout) -> dict[str, Person]:
    """Every account, read with a plain connection (the spawner asks at each start)."""
    if not layout.hub_db.exists():
        return {}
    engine = _engine(layout.db_url)
    with engine.connect() as con:
        if not sa.inspect(con).has_table(ACCOUNTS.name):
            return {}
        return {r.login: Person(r.login, r.name, r.street, r.community, r.role)
                for r in con.execute(sa.select(ACCOUNTS))}


@functools.lru_cache(maxsize=8)
def _engine(url: str):
    return sa.create_engine(url)


def sync(layout: Layout, everyone: Everyone, db_url: str | None = None,
         today: dt.date | None = None) -> SyncReport:
    """Create or update every account; remove accounts that left the roster and have no grades."""
    from nativeauthenticator.orm import UserInfo

    from . import server

    from ..grading import gradebook

    system.require_root("建立账号")
    server.prepare(layout)
    rep = SyncReport()
    db_url = db_url or gradebook.db_url(layout.course)
    graded = graded_ids(db_url)
    db = session(layout)
    new_passwords: dict[str, list[tuple[Person, str]]] = {}
    try:
        have = {r.login: r for r in db.execute(sa.select(ACCOUNTS))}
        for p in everyone.people:
            row = {"login": p.login, "name": p.name, "street": p.street, "community": p.community, "role": p.role}
            old = have.get(p.login)
            if old is None:
                db.execute(ACCOUNTS.insert().values(**row))
            elif tuple(old) != tuple(row.values()):
                db.execute(ACCOUNTS.update().where(ACCOUNTS.c.login == p.login).values(**row))
            info = UserInfo.find(db, p.login)
            if info is None:
                pw = new_password()
                db.add(UserInfo(username=p.login, password=_hash(pw), is_authorized=True))
                new_passwords.setdefault(p.street or "区培训中心", []).append((p, pw))
                rep.created.append(p.login)
            elif old is not None and tuple(old) == tuple(row.values()):
                rep.unchanged.append(p.login)
            else:
                rep.updated.append(p.login)
        gone = [login for login in have if login not in {p.login for p in everyone.people}]
        for login in gone:
            if login in graded:
                rep.kept.append(login)
                continue
            db.execute(ACCOUNTS.delete().where(ACCOUNTS.c.login == login))
            info = UserInfo.find(db, login)
            if info is not None:
                db.delete(info)
            rep.removed.append(login)
        # passwords reach the disk before the database commits: a crash leaves no account
        # whose first password nobody has
        rep.password_files = _write_passwords(layout, new_passwords, today)
        db.commit()
    except BaseException:
        db.rollback()
        for f in rep.password_files:
            f.unlink(missing_ok=True)
        raise
    finally:
        db.close()
    for p in everyone.people:
        server.prepare_person(layout, p)
    # the roster's workers are the gradebook's students, as after `shequ roster sync`
    gradebook.sync_students(everyone.rows, db_url)
    for login in rep.removed:
        system.delete_user(layout.os_user(login))
    return rep


def reset(layout: Layout, login: str, today: dt.date | None = None) -> Path:
    """A new password for one person, written to its own workbook; returns its path."""
    from nativeauthenticator.orm import UserInfo

    system.require_root("重置密码")
    p = existing(layout).get(login)
    if p is None:
        raise ShequError(f"没有账号 {login}：先运行 shequ hub users sync。")
    pw = new_password()
    db = session(layout)
    try:
        info = UserInfo.find(db, login)
        if info is None:
            db.add(UserInfo(username=login, password=_hash(pw), is_authorized=True))
        else:
            info.password = _hash(pw)
            info.is_authorized = True
        (f,) = _write_passwords(layout, {p.street or "区培训中心": [(p, pw)]}, today, tag=f"重置-{login}")
        db.commit()
    except BaseException:
        db.rollback()
        raise
    finally:
        db.close()
    return f


def _write_passwords(layout: Layout, by_street: dict[str, list[tuple[Person, str]]],
                     today: dt.date | None, tag: str = "初始密码") -> list[Path]:
    folder = layout.passwords / (today or dt.date.today()).isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for d in (layout.passwords, folder):
        d.chmod(0o700)
    out = []
    stamp = dt.datetime.now().strftime("%H%M%S")
    for street, rows in sorted(by_street.items()):
        path = folder / f"{street}-{tag}-{stamp}.xlsx"
        table = [["工号（登录名）", "姓名", "社区", "初始密码"]]
        table += [[p.login, p.name, p.community, pw] for p, pw in sorted(rows, key=lambda r: r[0].login)]
        note = (f"{street}：区社区信息化培训平台账号（{len(rows)} 人，合成数据演示）。请逐人当面发放；"
                "首次登录后请在“修改密码”中改为自己的密码。本表用后销毁。")
        sheets.write_xlsx(path, [sheets.Sheet(name="账号", rows=table, note=note)])
        path.chmod(0o600)
        out.append(path)
    return out

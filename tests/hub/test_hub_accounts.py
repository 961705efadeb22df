"""Accounts from the roster: one per worker and trainer, first passwords only in the 街道's
workbooks, all-or-nothing on a bad roster, never deleting a person with grades, resets."""
from __future__ import annotations

import grp
import pwd
import tempfile
from pathlib import Path

import bcrypt
import pytest
import sqlalchemy as sa

from shequ.hub import accounts, scratch
from shequ.synth import district

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub(scratch_hub):
    return scratch_hub(workers=3, trainers=1, start=False)


def hash_of(h, login: str) -> bytes | None:
    engine = sa.create_engine(h.layout.db_url)
    with engine.connect() as con:
        row = con.execute(sa.text("SELECT password FROM users_info WHERE username = :u"), {"u": login}).first()
    engine.dispose()
    return row[0] if row else None


def sync(h, run_shequ, rows, trainers=None):
    f = Path(tempfile.mkdtemp()) / "roster.csv"
    f.write_text(district.csv_text(rows), encoding="utf-8")
    t = h.root / "trainers.csv"
    return run_shequ("hub", "users", "sync", f, "--trainers", trainers or t, env=h.layout.env())


def test_each_person_has_an_os_account_in_their_role_group_and_a_password_that_logs_in(hub):
    h = hub
    assert set(h.passwords) == set(h.logins) | set(h.trainer_logins)
    for login in h.logins + h.trainer_logins:
        pw = pwd.getpwnam(h.layout.os_user(login))
        role = "trainer" if login in h.trainer_logins else "worker"
        assert grp.getgrgid(pw.pw_gid).gr_name == h.layout.group(role)
        assert pw.pw_shell == "/usr/sbin/nologin" and Path(pw.pw_dir) == h.layout.home(login)
        assert bcrypt.checkpw(h.passwords[login].encode(), hash_of(h, login))
    assert len(set(h.passwords.values())) == len(h.passwords)


def test_first_passwords_are_only_in_one_root_only_workbook_per_street(hub):
    files = sorted(hub.layout.passwords.rglob("*.xlsx"))
    streets = {r["street"] for r in district.staff()[:3]} | {"区社区工作者培训中心"}
    assert {f.name.split("-")[0] for f in files} == streets
    for f in files:
        assert f.stat().st_mode & 0o777 == 0o600 and f.stat().st_uid == 0
    assert hub.layout.passwords.stat().st_mode & 0o077 == 0


def test_sync_never_prints_or_logs_a_password(hub, run_shequ):
    rows = district.staff()[:4]                       # one more worker
    r = sync(hub, run_shequ, rows)
    assert r.returncode == 0, r.stderr
    assert "新增 1" in r.stdout
    new = scratch.read_passwords([Path(line.strip()) for line in r.stdout.splitlines() if line.strip().endswith(".xlsx")])
    assert set(new) == {rows[3]["worker_id"]}
    everything = r.stdout + r.stderr + hub.log_text()
    for pw in [*hub.passwords.values(), *new.values()]:
        assert pw not in everything
    hub.passwords.update(new)


def test_a_bad_roster_row_changes_nothing_and_names_the_row(hub, run_shequ):
    users_before = {p.pw_name for p in pwd.getpwall()}
    accounts_before = accounts.existing(hub.layout)
    rows = district.staff()[:6]
    rows[4] = {**rows[4], "community": "不存在社区"}
    r = sync(hub, run_shequ, rows)
    assert r.returncode == 2
    assert "第 6 行" in r.stderr and "没有建立或修改任何账号" in r.stderr
    assert {p.pw_name for p in pwd.getpwall()} == users_before
    assert accounts.existing(hub.layout) == accounts_before


def test_a_worker_who_left_is_removed_unless_they_have_grades(hub, run_shequ):
    rows = district.staff()[:4]
    graded, ungraded = rows[2]["worker_id"], rows[3]["worker_id"]
    from shequ.grading import gradebook

    with gradebook.open_gradebook(f"sqlite:///{hub.layout.course / 'gradebook.db'}") as gb:
        gb.add_assignment("left-test")            # a submission for `graded`, as grading leaves one
        gb.add_submission("left-test", graded)
    r = sync(hub, run_shequ, rows[:2])
    assert r.returncode == 0, r.stderr
    assert "删除 1" in r.stdout and graded in r.stdout  # kept, and said so
    have = accounts.existing(hub.layout)
    assert graded in have and ungraded not in have
    assert hash_of(hub, graded) is not None and hash_of(hub, ungraded) is None
    with pytest.raises(KeyError):
        pwd.getpwnam(hub.layout.os_user(ungraded))


def test_a_reset_password_replaces_the_old_one_and_is_not_printed(hub, run_shequ):
    login = hub.logins[0]
    old = hub.passwords[login]
    r = run_shequ("hub", "users", "reset", login, env=hub.layout.env())
    assert r.returncode == 0, r.stderr
    (f,) = [Path(w) for w in r.stdout.split() if w.endswith(".xlsx")]
    new = scratch.read_passwords([f])[login]
    assert new != old and new not in r.stdout + r.stderr
    stored = hash_of(hub, login)
    assert bcrypt.checkpw(new.encode(), stored) and not bcrypt.checkpw(old.encode(), stored)
    assert f.stat().st_mode & 0o777 == 0o600
    assert run_shequ("hub", "users", "reset", "nobody9", env=hub.layout.env()).returncode == 2


def test_without_root_the_hub_commands_refuse_with_a_chinese_message(hub):
    import subprocess

    # as a worker's own OS account (what their terminal in the hub is)
    r = subprocess.run(["runuser", "-u", hub.layout.os_user(hub.logins[1]), "--", "env",
                        *(f"{k}={v}" for k, v in hub.layout.env().items()),
                        str(hub.layout.bin / "shequ"), "hub", "users", "reset", hub.logins[1]],
                       capture_output=True, text=True, cwd="/")
    assert r.returncode == 2 and "需要 root 权限" in r.stderr and "Traceback" not in r.stderr, r.stderr

"""nbgrader's exchange with one folder per worker, so it needs no world-writable folder.

Stock nbgrader puts every submission into one inbound folder that everyone can write
(mode 0733) and every feedback file into one folder everyone can pass through, hidden only
by unguessable names (nbgrader #1225). Here, under <exchange>/<course>/:

    outbound/<assignment>/     released notebooks: trainers write, everyone reads
    inbound/<login>/           that worker's submissions: only they write, trainers read
    feedback/<login>/          that worker's feedback: trainers write, only they read

The hub (root) makes these folders and sets their owners and modes (prepare()); the classes
below are nbgrader's own exchange steps, told to use them (ExchangeFactory in the servers'
nbgrader config). Who a worker is comes from JUPYTERHUB_USER (CourseDirectory.student_id),
and the OS enforces it: a worker can write only into their own inbound folder, and collect
takes a submission only from the folder of the login it names.
"""
from __future__ import annotations

import glob
import json
import os
import re
import shutil
from pathlib import Path

from nbgrader.exchange.default import (ExchangeCollect, ExchangeFetchAssignment, ExchangeFetchFeedback,
                                       ExchangeReleaseAssignment, ExchangeReleaseFeedback,
                                       ExchangeSubmit)
from nbgrader.utils import notebook_hash
from traitlets import Unicode

# inside inbound/<login>/ (2750: the worker and the trainers' group, nobody else) a submission
# is readable by all who can reach it: its files carry the worker's own group, and Linux lets
# nobody but root give them the trainers' group
FILE_MODE, DIR_MODE = 0o644, 0o755


def _student(app) -> str:
    sid = app.coursedir.student_id
    if not sid or sid == "*" or "+" in sid or "/" in sid:
        app.fail(f"无法确定学员身份（student_id={sid!r}）：请从区培训平台登录后再操作。")
    return sid


class _HubMade:
    def ensure_root(self):
        pass  # the hub made the exchange; stock insists on a root everyone can write


class FetchAssignment(_HubMade, ExchangeFetchAssignment):
    pass


class Submit(_HubMade, ExchangeSubmit):
    def init_dest(self):
        if not self.coursedir.course_id:
            self.fail("No course id specified. Re-run with --course flag.")
        sid = _student(self)
        self.inbound_path = os.path.join(self.root, self.coursedir.course_id, "inbound", sid)
        if not os.access(self.inbound_path, os.W_OK | os.X_OK):
            self.fail(f"没有提交目录的写权限：{self.inbound_path}（请联系培训老师）")
        self.cache_path = os.path.join(self.cache, self.coursedir.course_id)
        rnd = os.urandom(9).hex()
        self.assignment_filename = f"{sid}+{self.coursedir.assignment_id}+{self.timestamp}+{rnd}"

    def set_perms(self, dest, fileperms, dirperms):
        super().set_perms(dest, FILE_MODE, DIR_MODE)

    def copy_files(self):
        super().copy_files()
        os.chmod(os.path.join(self.inbound_path, self.assignment_filename), DIR_MODE)  # stock: 0777


def _made_by(path: str, login: str, prefix: str) -> bool:
    import pwd

    try:
        return os.stat(path).st_uid == pwd.getpwnam(prefix + login).pw_uid
    except KeyError:
        return False


class Collect(_HubMade, ExchangeCollect):
    os_prefix = Unicode("sq-", help="OS accounts are <os_prefix><login> (shequ.hub.layout)").tag(config=True)

    def init_src(self):
        if not self.coursedir.course_id:
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        sid = self.coursedir.student_id or "*"
        pattern = os.path.join(self.inbound_path, "*", f"{sid}+{self.coursedir.assignment_id}+*")
        records = []
        for path in glob.glob(pattern):
            folder, name = Path(path).parent.name, Path(path).name
            rec = self._path_to_record(path)
            if rec["username"] != folder or not _made_by(path, folder, self.os_prefix):
                # a worker cannot hand in for somebody else
                self.log.warning("忽略 %s：不是 %s 本人提交的", path, folder)
                continue
            rec["filename"] = f"{folder}/{name}"
            records.append(rec)
        latest: dict[str, dict] = {}
        for rec in records:
            cur = latest.get(rec["username"])
            if cur is None or rec["timestamp"] > cur["timestamp"]:
                latest[rec["username"]] = rec
        self.src_records = list(latest.values())


class ReleaseAssignment(_HubMade, ExchangeReleaseAssignment):
    def init_dest(self):
        if not self.coursedir.course_id:
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.outbound_path = os.path.join(self.course_path, "outbound")
        self.inbound_path = os.path.join(self.course_path, "inbound")
        self.dest_path = os.path.join(self.outbound_path, self.coursedir.assignment_id)
        if os.path.isdir(self.dest_path):
            if self.force:
                self.log.info("Overwriting files: %s %s", self.coursedir.course_id, self.coursedir.assignment_id)
                shutil.rmtree(self.dest_path)
            else:
                self.fail("Destination already exists, add --force to overwrite: {} {}".format(
                    self.coursedir.course_id, self.coursedir.assignment_id))

    def set_perms(self, dest, fileperms, dirperms):
        super().set_perms(dest, 0o644, 0o755)   # released notebooks hold no answers


class ReleaseFeedback(_HubMade, ExchangeReleaseFeedback):
    def init_dest(self):
        if not self.coursedir.course_id:
            self.fail("No course id specified. Re-run with --course flag.")
        self.dest_path = os.path.join(self.root, self.coursedir.course_id, "feedback")

    def copy_files(self):
        exclude = set(filter(None, (self.coursedir.student_id_exclude or "").split(",")))
        regexp = re.escape(os.path.sep).join([
            self.coursedir.format_path(self.coursedir.feedback_directory, "(?P<student_id>[^/]+)",
                                       self.coursedir.assignment_id, escape=True),
            "(?P<notebook_id>.*).html"])
        for html_file in glob.glob(os.path.join(self.src_path, "*.html")):
            m = re.match(regexp, html_file)
            if m is None or m["student_id"] in exclude:
                continue
            sid, nb_id = m["student_id"], m["notebook_id"]
            folder = os.path.dirname(html_file)
            with open(os.path.join(folder, "submission_secret.txt")) as fh:
                secret = fh.read()
            dest_dir = os.path.join(self.dest_path, sid)
            if not os.path.isdir(dest_dir):
                self.log.warning("学员 %s 没有反馈目录（不是区培训平台的账号？），跳过", sid)
                continue
            checksum = notebook_hash(secret=secret, notebook_id=nb_id)
            tmp = os.path.join(dest_dir, f"{checksum}-tmp.html")
            shutil.copy(html_file, tmp)
            os.chmod(tmp, 0o644)   # the folder (2770) admits only its worker and the trainers
            os.replace(tmp, os.path.join(dest_dir, f"{checksum}.html"))
            self.log.info("Released feedback for %s: %s/%s", sid, self.coursedir.assignment_id, nb_id)


class FetchFeedback(_HubMade, ExchangeFetchFeedback):
    def init_src(self):
        if not self.coursedir.course_id:
            self.fail("No course id specified. Re-run with --course flag.")
        sid = _student(self)
        self.src_path = self.outbound_path = os.path.join(self.root, self.coursedir.course_id, "feedback", sid)
        self.cache_path = os.path.join(self.cache, self.coursedir.course_id)
        aid = self.coursedir.assignment_id or "*"
        self.feedback_files = []
        for sub in glob.glob(os.path.join(self.cache_path, f"*+{aid}+*")):
            timestamp = os.path.basename(sub).split("+")[2]
            secret_file = os.path.join(sub, "submission_secret.txt")
            if not os.path.isfile(secret_file):
                continue
            with open(secret_file) as fh:
                secret = fh.read()
            for nb in glob.glob(os.path.join(sub, "*.ipynb")):
                nb_id = os.path.splitext(os.path.basename(nb))[0]
                path = os.path.join(self.outbound_path, f"{notebook_hash(secret=secret, notebook_id=nb_id)}.html")
                if os.path.exists(path):
                    self.feedback_files.append((nb_id, timestamp, path))


FACTORY = {"fetch_assignment": FetchAssignment, "submit": Submit, "collect": Collect, "release_assignment": ReleaseAssignment,
           "release_feedback": ReleaseFeedback, "fetch_feedback": FetchFeedback}


def factory_config(c) -> None:
    """Point nbgrader's ExchangeFactory at these classes (in a servers' nbgrader config)."""
    for step, cls in FACTORY.items():
        setattr(c.ExchangeFactory, step, f"{cls.__module__}.{cls.__qualname__}")


def course_config(c, course: Path) -> None:
    """The trainers' course on the district server: the hub's exchange, shared by the group."""
    hub = json.loads((Path(course) / "hub.json").read_text(encoding="utf-8"))
    state = Path(hub["state"])
    c.Collect.os_prefix = hub["prefix"]
    c.Exchange.root = str(state / "exchange")
    factory_config(c)
    c.CourseDirectory.groupshared = True   # several trainers grade the same course
    # logins are not OS account names (sq-w0001): Collect checks the inbound folder instead
    c.CollectApp.check_owner = False

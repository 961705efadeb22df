"""Each person's JupyterLab runs as their own OS account, set up for their role.

A worker's server: root folder = their home (lessons/, assignments/), the Chinese assignment
page as its start page, nbgrader's English panels off, datasets read from share/. A
trainer's server: root folder = the course's parent (the project; the formgrader needs the
course inside it),
umask 002 so that several trainers can grade the same course.
"""
from __future__ import annotations

import json
import os
import pwd
import shutil

from jupyterhub.spawner import LocalProcessSpawner, set_user_setuid

from . import accounts
from .layout import Layout
from .server import LOCALE

LESSONS = "lessons"
ASSIGNMENTS = "assignments"


class ShequSpawner(LocalProcessSpawner):
    _role, _person = "worker", None
    @property
    def layout(self) -> Layout:
        return Layout.from_env()

    @property
    def person(self) -> accounts.Person | None:
        return accounts.existing(self.layout).get(self.user.name)

    @property
    def role(self) -> str:
        return self._role

    async def start(self):
        # who they are is read once per start: every step below asks for the role
        p = self.person
        self._role = p.role if p else "worker"
        self._person = p
        self._workspace()
        return await super().start()

    @property
    def os_name(self) -> str:
        return self.layout.os_user(self.user.name)

    def make_preexec_fn(self, name):
        setuid = set_user_setuid(self.os_name)
        mask = 0o002 if self.role == "trainer" else 0o077   # a worker's files are theirs alone

        def preexec():
            os.umask(mask)
            setuid()
        return preexec

    def user_env(self, env):
        pw = pwd.getpwnam(self.os_name)
        env.update(USER=self.os_name, HOME=pw.pw_dir, SHELL="/bin/bash")
        return env

    def get_env(self):
        env = super().get_env()
        lay, home = self.layout, pwd.getpwnam(self.os_name).pw_dir
        env.update({
            "PATH": f"{lay.bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin",
            "JUPYTER_CONFIG_DIR": str(lay.config_dir(self.role)),
            "JUPYTER_DATA_DIR": os.path.join(home, ".local", "share", "jupyter"),
            "JUPYTER_RUNTIME_DIR": os.path.join(home, ".local", "share", "jupyter", "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": os.path.join(home, ".jupyter", "lab", "user-settings"),
            "JUPYTERLAB_WORKSPACES_DIR": os.path.join(home, ".jupyter", "lab", "workspaces"),
            "IPYTHONDIR": os.path.join(home, ".ipython"),
            "MPLCONFIGDIR": os.path.join(home, ".cache", "matplotlib"),
            "PYTHONDONTWRITEBYTECODE": "1",
            "LANG": "C.UTF-8",
            "SHEQU_HUB_ROLE": self.role,
            "SHEQU_HUB_STATE": str(lay.state),
        })
        person = self._person
        if person:   # the workspace page greets them (it cannot read the hub database)
            env.update(SHEQU_HUB_NAME=person.name, SHEQU_HUB_STREET=person.street,
                       SHEQU_HUB_COMMUNITY=person.community)
        if self.role == "worker":
            env["SHEQU_ROOT"] = str(lay.share)     # lessons read datasets/ from the read-only copy
        else:
            env["SHEQU_GRADING"] = str(lay.course)
        for k in ("SHEQU_DB_URL",):
            if os.environ.get(k):
                env[k] = os.environ[k]
        return env

    def get_args(self):
        args = super().get_args()
        lay = self.layout
        if self.role == "worker":
            root, start = pwd.getpwnam(self.os_name).pw_dir, "/shequ"
        else:
            # the formgrader works only on a course inside the server's root: the course's
            # parent (the project, for grading/)
            root, start = str(lay.course.parent), "/shequ"
        return [*args, f"--ServerApp.root_dir={root}", f"--SingleUserNotebookApp.default_url={start}"]

    def _workspace(self) -> None:
        """First start: lesson copies the worker can edit, the assignments folder, Chinese UI."""
        pw = pwd.getpwnam(self.os_name)
        home = pw.pw_dir
        made = []
        user_settings = os.path.join(home, ".jupyter", "lab", "user-settings", "@jupyterlab")
        # Chinese from the first start; no English news feed or "a newer JupyterLab is
        # available" notice (the version is pinned on purpose)
        for plugin, value in (("translation-extension/plugin", {"locale": LOCALE}),
                              ("apputils-extension/notification", {"fetchNews": "false", "checkForUpdates": False})):
            path = os.path.join(user_settings, f"{plugin}.jupyterlab-settings")
            if not os.path.exists(path):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as f:
                    json.dump(value, f)
                made.append(os.path.join(home, ".jupyter"))
        if self.role == "worker":
            lessons = os.path.join(home, LESSONS)
            if not os.path.exists(lessons):
                shutil.copytree(self.layout.share / "courses", lessons)
                made.append(lessons)
            if not os.path.exists(os.path.join(home, ASSIGNMENTS)):
                os.makedirs(os.path.join(home, ASSIGNMENTS))
                made.append(os.path.join(home, ASSIGNMENTS))
        for top in made:
            for dirpath, dirnames, filenames in os.walk(top):
                for p in [dirpath, *(os.path.join(dirpath, f) for f in filenames)]:
                    os.chown(p, pw.pw_uid, pw.pw_gid)
                    os.chmod(p, 0o700 if os.path.isdir(p) else 0o600)

"""Where the district server keeps everything, from one state folder.

Defaults suit one machine (`make hub`): state under build/hub/, the course the trainers grade
is grading/ (SHEQU_GRADING), loopback port 8000. Every value can be set through the
environment, which is also how the JupyterHub process (its config file) gets them.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..errors import ShequError

# logins are roster 工号 (w0001) or trainer ids: safe as OS user names and URL parts
LOGIN = re.compile(r"^[a-z][a-z0-9_-]{0,23}$")
ROLES = ("worker", "trainer")


@dataclass(frozen=True)
class Layout:
    state: Path
    course: Path
    project: Path
    prefix: str = "sq-"      # OS accounts are <prefix><login>; groups <prefix>workers / <prefix>trainers
    ip: str = "127.0.0.1"
    port: int = 8000

    @classmethod
    def from_env(cls, env=None) -> Layout:
        env = os.environ if env is None else env
        state = Path(env.get("SHEQU_HUB_STATE") or paths.BUILD / "hub").resolve()
        prefix = env.get("SHEQU_HUB_PREFIX") or "sq-"
        if not re.fullmatch(r"[a-z][a-z0-9-]{0,7}", prefix):
            raise ShequError(f"SHEQU_HUB_PREFIX={prefix!r} 不可用：只能是小写字母、数字和连字符，最多 8 个字符。")
        try:
            port = int(env.get("SHEQU_HUB_PORT") or 8000)
        except ValueError:
            raise ShequError(f"SHEQU_HUB_PORT={env.get('SHEQU_HUB_PORT')!r} 不是端口号。") from None
        return cls(state=state, course=Path(env.get("SHEQU_GRADING") or paths.GRADING).resolve(),
                   project=paths.ROOT.resolve(), prefix=prefix,
                   ip=env.get("SHEQU_HUB_IP") or "127.0.0.1", port=port)

    def env(self) -> dict[str, str]:
        """The variables that make from_env() give this layout (for the hub process)."""
        return {"SHEQU_HUB_STATE": str(self.state), "SHEQU_GRADING": str(self.course),
                "SHEQU_HUB_PREFIX": self.prefix, "SHEQU_HUB_IP": self.ip, "SHEQU_HUB_PORT": str(self.port)}

    # ---- the state folder ---------------------------------------------------------------
    @property
    def hub_db(self) -> Path:
        return self.private / "jupyterhub.sqlite"   # password hashes: root only

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.hub_db}"

    @property
    def homes(self) -> Path:
        return self.state / "home"

    def home(self, login: str) -> Path:
        return self.homes / login

    @property
    def exchange(self) -> Path:
        return self.state / "exchange"

    @property
    def share(self) -> Path:
        """Read-only copy of what workers may read: datasets and lesson notebooks."""
        return self.state / "share"

    @property
    def passwords(self) -> Path:
        """First and reset passwords, one workbook per 街道 (root only)."""
        return self.state / "passwords"

    @property
    def private(self) -> Path:
        """Hub secrets and logs (root only)."""
        return self.state / "private"

    def config_dir(self, role: str) -> Path:
        """JUPYTER_CONFIG_DIR of a role's servers (root-owned, read-only to them)."""
        return self.state / "config" / role

    @property
    def pid_file(self) -> Path:
        return self.private / "jupyterhub.pid"

    @property
    def log_file(self) -> Path:
        return self.private / "jupyterhub.log"

    @property
    def url(self) -> str:
        return f"http://{self.ip}:{self.port}/"

    # ---- accounts ------------------------------------------------------------------------
    def os_user(self, login: str) -> str:
        return f"{self.prefix}{login}"

    def group(self, role: str) -> str:
        return f"{self.prefix}{role}s"

    @property
    def bin(self) -> Path:
        return Path(sys.executable).parent


def check_login(login: str) -> str:
    if not LOGIN.match(login or ""):
        raise ShequError(f"工号“{login}”不能作为登录名：须以小写字母开头，只含小写字母、数字、_ 和 -，最多 24 个字符。")
    return login

"""A real district server per test module: JupyterHub on loopback, OS accounts with a fresh
prefix, a two-worker roster and one trainer, the quiz released (shequ.hub.scratch)."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest


def need_root() -> None:
    """The hub starts each person's server as their own OS account: only root can."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root 权限")
    for tool in ("useradd", "runuser", "setfacl"):
        if not shutil.which(tool):
            missing.append(tool)
    if missing:
        msg = "区培训平台测试需要 " + "、".join(missing) + "（make system-deps，并以 root 运行）"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI 中不能跳过：" + msg)
        pytest.skip(msg)


@pytest.fixture(scope="module")
def scratch_hub():
    """scratch_hub(workers=2, trainers=1, start=True): a district server, closed at module end."""
    from shequ.hub import scratch

    need_root()
    made = []

    def make(workers: int = 2, trainers: int = 1, start: bool = True):
        root = Path(tempfile.mkdtemp(prefix="shequ-hub-"))
        hub = scratch.ScratchHub(root, workers=workers, trainers=trainers)
        made.append(hub)
        hub.build()
        if start:
            hub.start()
        return hub

    yield make
    for hub in made:
        hub.close()

"""Parallel grading processes must not race for kernel addresses: with TCP two nbgrader
processes could pick the same free port, and a submission failed with "kernel died"
(CI saw this on a stock autograde run). Kernels now use Unix sockets named by process."""
import json
import subprocess
import sys

import pytest

from shequ import paths

pytestmark = pytest.mark.slow  # starts kernels

PROBE = r"""
import json, sys
from jupyter_client import KernelManager
from traitlets.config.loader import PyFileConfigLoader

cfg = PyFileConfigLoader("nbgrader_config.py", path=sys.argv[1]).load_config()
km = KernelManager(config=cfg)
km.start_kernel()
try:
    kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=60)
    kc.execute("x = 6 * 7")
    reply = kc.get_shell_msg(timeout=60)
    print(json.dumps({"transport": km.transport, "ip": km.ip, "status": reply["content"]["status"]}))
    kc.stop_channels()
finally:
    km.shutdown_kernel(now=True)
"""


def test_two_grading_processes_start_kernels_on_distinct_unix_sockets():
    procs = [subprocess.Popen([sys.executable, "-c", PROBE, str(paths.ROOT / "grading")],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
        outs.append(json.loads(out.strip().splitlines()[-1]))
    assert [o["transport"] for o in outs] == ["ipc", "ipc"]
    assert [o["status"] for o in outs] == ["ok", "ok"]  # a kernel on a Unix socket runs code
    assert outs[0]["ip"] != outs[1]["ip"]

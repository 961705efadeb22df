"""What a trainer is told names the real cause: a cell that ran too long is not a kernel
that did not start."""
import pytest

from shequ.grading.worker import _reason


@pytest.mark.parametrize("log, said", [
    ("nbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, after 5 seconds.",
     "单元格运行超时"),
    ("TimeoutError: Timeout waiting for execute reply (5s).", "单元格运行超时"),
    ("RuntimeError: Kernel didn't respond in 60 seconds", "内核启动超时"),
    ("nbclient.exceptions.DeadKernelError: Kernel died", "内核意外退出"),
    ("sqlite3.OperationalError: database is locked", "成绩库被占用"),
])
def test_each_failure_is_reported_with_its_own_cause(log, said):
    assert said in _reason(log)

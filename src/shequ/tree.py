"""What a run changed in the project tree: `git status` and the files of build/report/.
The test suite takes a snapshot before and after and fails when they differ (a user's
`make demo` output must survive `make test`)."""
from __future__ import annotations

import subprocess
from pathlib import Path

WATCHED = ("build/report",)  # git-ignored, so git status cannot see it


def snapshot(root: Path) -> dict[str, str]:
    """{what: state}: one entry per `git status --porcelain` line and per watched file."""
    out: dict[str, str] = {}
    r = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                       capture_output=True, text=True)
    if r.returncode == 0:
        for line in r.stdout.splitlines():
            out[f"git: {line[3:]}"] = line[:2]
    for d in WATCHED:
        for p in sorted((root / d).rglob("*")) if (root / d).is_dir() else []:
            if p.is_file():
                st = p.stat()
                out[f"{p.relative_to(root)}"] = f"{st.st_size}:{st.st_mtime_ns}"
    return out


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Chinese lines naming every entry added, removed or changed between two snapshots."""
    lines = []
    for k in sorted(set(before) | set(after)):
        if k not in before:
            lines.append(f"新增 {k}")
        elif k not in after:
            lines.append(f"删除 {k}")
        elif before[k] != after[k]:
            lines.append(f"改动 {k}")
    return lines

"""Set-up promises: one dependency list in two formats, a self-documenting Makefile."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    proj = data["project"]
    return set(proj["dependencies"]) | {r for extra in proj["optional-dependencies"].values() for r in extra}


def test_environment_yml_lists_exactly_the_pyproject_dependencies():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_side = {r for r in pip if r != "-e ."}
    assert conda_side == _pyproject_requirements(), (
        "environment.yml and pyproject.toml disagree: "
        f"only in environment.yml {sorted(conda_side - _pyproject_requirements())}, "
        f"only in pyproject.toml {sorted(_pyproject_requirements() - conda_side)}")


def test_nbgrader_pins_follow_the_measured_compatible_ranges():
    reqs = _pyproject_requirements()
    assert "nbgrader>=0.9.6,<0.10" in reqs
    assert "jupyterlab>=4.5,<4.6" in reqs and "notebook>=7.5,<7.6" in reqs
    # nativeauthenticator 1.3.0 answers every login with HTTP 500 on JupyterHub 6 (statsd removed)
    assert "jupyterhub>=5.5,<5.6" in reqs and "jupyterhub-nativeauthenticator==1.3.0" in reqs
    lab = next(r for r in reqs if r.startswith("jupyterlab>="))
    pack = next(r for r in reqs if r.startswith("jupyterlab-language-pack-zh-CN"))
    assert lab.split(">=")[1].split(",")[0] == pack.split(">=")[1].split(".post")[0]  # pack follows the lab
    assert any(r.startswith("jupyter-client") and "<9" in r for r in reqs)


def test_make_help_lists_every_target_with_a_description():
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^\.PHONY:(.*)$", text, re.M)[0].split())
    out = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    listed = {line.split()[1] for line in out.splitlines() if line.strip().startswith("make ")}
    assert targets == listed, f"targets without a help line: {targets - listed}"


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme


def test_loading_nbformat_does_not_build_the_iri_parsers():
    # jsonschema 4.25+ imports rfc3987_syntax (2.3 s of CPU per nbgrader process here): see pyproject.toml
    code = "import sys, nbformat, jsonschema._format; print('rfc3987_syntax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"

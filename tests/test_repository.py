"""Repository hygiene: clean notebooks, consistent environments, the course's shape."""

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DESIGN_PACKAGES = {"python", "jupyterlab", "ipywidgets", "numpy", "scipy", "pytorch", "matplotlib", "nbval"}


def tracked_notebooks():
    out = subprocess.run(["git", "ls-files", "notebooks/*.ipynb"], cwd=ROOT, capture_output=True, text=True)
    tracked = [ROOT / line for line in out.stdout.split()] if out.returncode == 0 else []
    return tracked or NOTEBOOKS


def test_there_are_notebooks():
    names = [nb.name for nb in NOTEBOOKS]
    assert names and names[0] == "00_start_here.ipynb", names


@pytest.mark.parametrize("notebook", tracked_notebooks(), ids=lambda p: p.name)
def test_notebook_committed_without_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    dirty = [
        i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))
    ]
    assert not dirty, f"{notebook.name}: cells {dirty} have outputs or execution counts; strip them before committing"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_header_badge_and_footer(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    first = "".join(cells[0]["source"])
    assert first.startswith("# "), f"{notebook.name}: the first cell must be a Markdown title"
    badge = f"mybinder.org/v2/gh/vilab-course/vilab/HEAD?urlpath=lab/tree/notebooks/{notebook.name}"
    assert any(badge in "".join(c["source"]) for c in cells[:3]), f"{notebook.name}: no Binder badge opening itself"
    markdown = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").lower()
    assert "summary" in markdown, f"{notebook.name}: no summary section"


def conda_packages(path):
    """Conda package names listed under ``dependencies`` (not the local ``pip: -e .`` install of vilab)."""
    names = set()
    for line in path.read_text().splitlines():
        item = line.strip()
        if item.startswith("- ") and not item.endswith(":"):
            spec = item[2:].split("#")[0].strip()
            if not spec.startswith("-"):
                names.add(spec.split("=")[0].split("<")[0].split(">")[0].strip())
    return names


def test_binder_uses_the_same_environment_as_conda_users():
    root_env = conda_packages(ROOT / "environment.yml")
    binder_env = conda_packages(ROOT / "binder" / "environment.yml")
    assert root_env == binder_env
    assert DESIGN_PACKAGES <= root_env, f"missing from environment.yml: {DESIGN_PACKAGES - root_env}"
    assert "pytorch=*=cpu*" in (ROOT / "environment.yml").read_text(), "torch must be the CPU build"
    assert "dataset-fashion-mnist" in (ROOT / "binder" / "apt.txt").read_text().split()


def test_pip_requirements_pin_the_cpu_torch():
    requirements = (ROOT / "requirements.txt").read_text().split()
    assert "torch==2.13.0" in requirements
    pins = [r for r in requirements if "==" in r]
    assert {p.split("==")[0] for p in pins} >= {"numpy", "scipy", "matplotlib", "jupyterlab", "ipywidgets"}

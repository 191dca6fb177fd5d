"""Repository hygiene: clean notebooks, one header in every notebook, environments that agree.

The release setting ([tool.vilab] in pyproject.toml: the GitHub repository and the release tag) is the one place
a fork changes; ``expected_header(notebook_name)`` builds each notebook's badges and Colab cell from it, and

    python tests/test_repository.py --apply notebooks/*.ipynb

rewrites the headers of the given notebooks to match (keeping every other cell and its metadata).
"""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
COURSE_PACKAGES = {"torch", "numpy", "scipy", "matplotlib", "jupyterlab", "ipywidgets", "ipykernel", "tqdm"}
TEST_TOOLS = {"pytest", "nbval", "ruff", "nbclient", "nbformat", "playwright"}
COLAB_CELL_MARK = "# Colab only"


# --- the header every notebook carries ----------------------------------------------


def release():
    """(repository "owner/name", release tag) from pyproject.toml's [tool.vilab]."""
    setting = PYPROJECT["tool"]["vilab"]
    return setting["repository"], setting["release"]


def expected_header(notebook_name):
    """The badges line (right after the title) and the Colab cell (the first code cell) of ``notebook_name``.

    Returns {"badges": one Markdown line, "colab_cell": the code cell's source}. The cell installs vilab from
    the release tag with --no-deps (Colab's own torch, numpy and ipywidgets stay as they are) and fetches the
    data, only on Colab; elsewhere it does nothing. Running it twice gives the same result.
    """
    repository, tag = release()
    binder = f"https://mybinder.org/v2/gh/{repository}/{tag}?urlpath=lab/tree/notebooks/{notebook_name}"
    colab = f"https://colab.research.google.com/github/{repository}/blob/{tag}/notebooks/{notebook_name}"
    badges = (
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder}) "
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab})"
    )
    cell = "\n".join(
        [
            f"{COLAB_CELL_MARK}: install the course's package (release {tag}) and fetch the data. Colab's own torch",
            "# and widgets stay as they are (--no-deps); anywhere else this cell does nothing.",
            "import sys",
            "",
            'if "google.colab" in sys.modules:',
            f'    %pip install --quiet --no-deps "vilab @ git+https://github.com/{repository}@{tag}"',
            "    !python -m vilab.data fetch",
        ]
    )
    return {"badges": badges, "colab_cell": cell}


def apply_header(path):
    """Rewrite ``path``'s badges line and Colab cell to ``expected_header`` (other cells untouched)."""
    notebook = json.loads(Path(path).read_text())
    header = expected_header(Path(path).name)
    cells = notebook["cells"]
    lines = cell_source(cells[0]).split("\n")
    title, rest = lines[0], [line for line in lines[1:] if "badge_logo.svg" not in line and "colab-badge" not in line]
    rest = [line for i, line in enumerate(rest) if line or (i > 0 and rest[i - 1])]  # no blank runs left behind
    while rest and rest[0] == "":
        rest.pop(0)
    text = "\n".join([title, "", header["badges"], "", *rest] if rest else [title, "", header["badges"]])
    cells[0]["source"] = text.splitlines(keepends=True)
    colab = {
        "cell_type": "code",
        "execution_count": None,
        "id": "colab-install",
        "metadata": {},
        "outputs": [],
        "source": header["colab_cell"].splitlines(keepends=True),
    }
    if len(cells) > 1 and cell_source(cells[1]).startswith(COLAB_CELL_MARK):
        colab["id"], colab["metadata"] = cells[1].get("id", colab["id"]), cells[1].get("metadata", {})
        cells[1] = colab
    else:
        cells.insert(1, colab)
    Path(path).write_text(json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


def cell_source(cell):
    return "".join(cell["source"])


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
def test_notebook_has_a_title_and_a_summary(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    assert cells[0]["cell_type"] == "markdown" and cell_source(cells[0]).startswith("# "), (
        f"{notebook.name}: the first cell must be a Markdown title"
    )
    markdown = " ".join(cell_source(c) for c in cells if c["cell_type"] == "markdown").lower()
    assert "summary" in markdown, f"{notebook.name}: no summary section"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_header_badges_and_colab_cell(notebook):
    """The badges right after the title, and the Colab cell as the first code cell, exactly as expected_header."""
    cells = json.loads(notebook.read_text())["cells"]
    header = expected_header(notebook.name)
    lines = cell_source(cells[0]).split("\n")
    assert lines[1:3] == ["", header["badges"]], f"{notebook.name}: the badges must follow the title"
    others = [c for c in cells if "badge_logo.svg" in cell_source(c) or "colab-badge.svg" in cell_source(c)]
    assert others == [cells[0]], f"{notebook.name}: badges elsewhere than after the title"
    code = [c for c in cells if c["cell_type"] == "code"]
    assert cells[1] is code[0] and cell_source(cells[1]) == header["colab_cell"], (
        f"{notebook.name}: the first code cell (right after the title) must be the Colab cell of expected_header"
    )
    assert sum(COLAB_CELL_MARK in cell_source(c) for c in code) == 1, f"{notebook.name}: one Colab cell only"


def test_apply_header_is_idempotent_and_keeps_the_rest(tmp_path):
    source = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())
    old = {
        **source,
        "cells": [
            {
                "cell_type": "markdown",
                "metadata": {},
                "source": ["# 07 · Test\n", "\n", "[![Binder](x/badge_logo.svg)](y)\n"],
            },
            {"cell_type": "code", "metadata": {"tags": ["solution"]}, "source": ["x = 1"], "outputs": []},
        ],
    }
    path = tmp_path / "07_test.ipynb"
    path.write_text(json.dumps(old))
    apply_header(path)
    once = path.read_text()
    apply_header(path)
    assert path.read_text() == once
    cells = json.loads(once)["cells"]
    assert cell_source(cells[0]).split("\n")[:3] == ["# 07 · Test", "", expected_header(path.name)["badges"]]
    assert cell_source(cells[1]) == expected_header(path.name)["colab_cell"]
    assert cells[2]["metadata"] == {"tags": ["solution"]} and cell_source(cells[2]) == "x = 1"


def test_colab_cell_is_a_no_op_here():
    """Off Colab the cell must do nothing: run it (as IPython would transform it) without google.colab."""
    from IPython.core.inputtransformer2 import TransformerManager

    python = TransformerManager().transform_cell(expected_header("00_start_here.ipynb")["colab_cell"])
    calls = []

    class Shell:
        def run_line_magic(self, *args):
            calls.append(args)

        def system(self, *args):
            calls.append(args)

        getoutput = system

    assert "google.colab" not in sys.modules
    exec(compile(python, "colab_cell", "exec"), {"get_ipython": lambda: Shell()})
    assert calls == []
    sys.modules["google.colab"] = type(sys)("google.colab")  # and on Colab it installs and fetches
    try:
        exec(compile(python, "colab_cell", "exec"), {"get_ipython": lambda: Shell()})
    finally:
        del sys.modules["google.colab"]
    repository, tag = release()
    assert calls[0][0] == "pip" and f"git+https://github.com/{repository}@{tag}" in calls[0][1]
    assert "--no-deps" in calls[0][1]
    assert "vilab.data fetch" in str(calls[1])


def test_readme_badges_point_at_the_release():
    readme = (ROOT / "README.md").read_text()
    badges = expected_header("00_start_here.ipynb")["badges"]
    assert badges in readme, "README: the badges must be expected_header('00_start_here.ipynb')['badges']"
    assert "/HEAD?" not in readme and "/blob/main/" not in readme, "README: a badge points at a moving branch"
    repository, tag = release()
    for where, found in re.findall(r"(github\.com/([\w.-]+/[\w.-]+)@)", readme):
        assert found == repository, f"README: {where} is not the release setting's repository {repository}"
    tags = set(re.findall(r"github\.com/[\w.-]+/[\w.-]+@(v[\w.]+)", readme))
    assert tags == {tag}, f"README installs tags {tags}, the release setting says {tag}"


# --- versions that must agree ---------------------------------------------------------


def pins(path):
    """{name: version} of the ``name==version`` lines of a requirements file (local labels such as +cpu dropped)."""
    result = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            requirement = Requirement(line)
            (spec,) = requirement.specifier
            assert spec.operator == "==", f"{path.name}: {line} is not an exact pin"
            result[requirement.name] = spec.version.split("+")[0]
    return result


def test_course_requirements_are_the_notebooks_needs_and_no_test_tools():
    course, tools = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-test.txt")
    assert set(course) == COURSE_PACKAGES
    assert set(tools) >= TEST_TOOLS and not set(tools) & set(course)
    assert course["torch"] == "2.13.0"


def test_binder_pins_the_same_versions_as_requirements():
    binder = ROOT / "binder" / "requirements.txt"
    assert pins(binder) == pins(ROOT / "requirements.txt"), "binder/requirements.txt drifted from requirements.txt"
    text = binder.read_text()
    assert "torch==2.13.0+cpu" in text.split() and "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    for other in ("environment.yml", "Pipfile", "requirements-test.txt"):
        assert not (ROOT / "binder" / other).exists(), f"binder/{other} would change what repo2docker installs"
    assert "dataset-fashion-mnist" in (ROOT / "binder" / "apt.txt").read_text().split()
    assert "--no-deps" in (ROOT / "binder" / "postBuild").read_text()


def test_pins_satisfy_the_package_ranges():
    course = pins(ROOT / "requirements.txt")
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        assert requirement.specifier.contains(course[requirement.name]), f"{course[requirement.name]} vs {line}"
    ranges = {Requirement(line).name: Requirement(line).specifier for line in PYPROJECT["project"]["dependencies"]}
    assert "2.0" in ranges["numpy"] and "1.26" not in ranges["numpy"], "np.trapezoid needs NumPy >= 2.0"
    assert "7.7.1" in ranges["ipywidgets"], "Colab ships ipywidgets 7.7.1"
    assert "2.9.0" in ranges["torch"] and "2.20.0" in ranges["torch"], "a range that never downgrades Colab's torch"
    (setuptools,) = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    assert "76.9" not in setuptools.specifier and "77.0" in setuptools.specifier, 'license = "MIT" needs >= 77'


def minimum_pythons():
    """The minimum Python as each place states it."""
    found = {}
    found["pyproject"] = re.fullmatch(r">=(\d+\.\d+)", PYPROJECT["project"]["requires-python"])[1]
    found["Makefile"] = re.search(r"^MIN_PYTHON := (\S+)$", (ROOT / "Makefile").read_text(), re.M)[1]
    start = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())
    code = "\n".join(cell_source(c) for c in start["cells"])
    found["00_start_here"] = ".".join(re.search(r"MIN_PYTHON = \((\d+), (\d+)\)", code).groups())
    readme = (ROOT / "README.md").read_text()
    stated = set(re.findall(r"Python ≥ (\d+\.\d+)", readme))
    assert len(stated) == 1, f"README states several minimum Pythons: {stated}"
    found["README"] = stated.pop()
    found["environment.yml"] = re.search(r"- python>=(\S+)", (ROOT / "environment.yml").read_text())[1]
    found["ruff target"] = "3." + PYPROJECT["tool"]["ruff"]["target-version"].removeprefix("py3")
    return found


def test_the_minimum_python_is_stated_identically_everywhere():
    found = minimum_pythons()
    assert len(set(found.values())) == 1, found
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    assert SpecifierSet(f">={found['pyproject']}").contains(runtime.removeprefix("python-") + ".0"), runtime


def test_start_here_checks_the_package_ranges_and_the_course_version():
    import vilab

    start = json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())
    code = "\n".join(cell_source(c) for c in start["cells"] if c["cell_type"] == "code")
    required = dict(re.findall(r'"(\w+)": "([\d.]+)"', code.split("required = {", 1)[1].split("}", 1)[0]))
    ranges = {Requirement(line).name: Requirement(line).specifier for line in PYPROJECT["project"]["dependencies"]}
    minimums = {name: next(s.version for s in spec if s.operator == ">=") for name, spec in ranges.items()}
    assert required == minimums, "00's environment check must ask for pyproject's minimum versions"
    assert "jupyterlab" not in code, "00's check is kernel-side only (no JupyterLab on Colab, VS Code, many hubs)"
    course = re.search(r'COURSE_VERSION = "([^"]+)"', code)[1]
    assert course == PYPROJECT["project"]["version"] == vilab.__version__
    assert release()[1] == f"v{course}", "the release tag is v<version>"


if __name__ == "__main__":
    if sys.argv[1:2] != ["--apply"] or len(sys.argv) < 3:
        sys.exit("usage: python tests/test_repository.py --apply NOTEBOOK.ipynb ...")
    for name in sys.argv[2:]:
        apply_header(name)
        print(f"{name}: header applied")

"""The student edition (tools/student_edition.py) and the nbval plugin that grades it (tests/student)."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "student"))
import exercise_status  # noqa: E402
import student_edition  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    output = tmp_path_factory.mktemp("student")
    removed = student_edition.build(output)
    return output, removed


def test_every_notebook_is_in_the_edition_without_its_solutions(edition):
    output, removed = edition
    assert sorted(p.name for p in output.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    for source_path in NOTEBOOKS:
        source = nbformat.read(source_path, as_version=4)
        student = nbformat.read(output / source_path.name, as_version=4)
        kept = [c for c in source.cells if not student_edition.is_solution(c)]
        assert removed[source_path.name] == len(source.cells) - len(kept)
        assert not any(student_edition.is_solution(c) for c in student.cells)
        assert [c.source for c in student.cells] == [kept[0].source, student.cells[1].source] + [
            c.source for c in kept[1:]
        ]
        assert "Student edition" in student.cells[1].source
        assert [c.metadata.get("tags") for c in student.cells[2:]] == [c.metadata.get("tags") for c in kept[1:]]
        assert not any(c.get("outputs") or c.get("execution_count") for c in student.cells if c.cell_type == "code")


def test_each_notebook_with_solutions_keeps_its_exercise_checks(edition):
    output, removed = edition
    for name, count in removed.items():
        student = nbformat.read(output / name, as_version=4)
        checks = [c for c in student.cells if c.cell_type == "code" and exercise_status.check_calls(c.source)]
        assert not count or checks, f"{name}: solutions removed but no exercise check left"


def _run_nbval(tmp_path, cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = tmp_path / "exercise.ipynb"
    nbformat.write(nb, path)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "student"), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "pytest", "-q", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
               "-p", "exercise_status", str(path)]  # fmt: skip
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_the_plugin_passes_untouched_stubs_and_fails_a_graded_answer(tmp_path):
    stub = _run_nbval(tmp_path, ["from vilab.check import check_value", "answer = None", "check_value(answer, 2.0)"])
    assert stub.returncode == 0, stub.stdout + stub.stderr
    assert "each answered 'not attempted yet'" in stub.stdout
    graded = _run_nbval(tmp_path, ["from vilab.check import check_value", "check_value(2.0, 2.0, name='exercise')"])
    assert graded.returncode != 0 and "should each print 'not attempted yet'" in graded.stdout, graded.stdout

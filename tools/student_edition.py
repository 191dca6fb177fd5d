"""The student edition: every notebook without its reference-solution cells (the cells tagged ``solution``).

    python tools/student_edition.py [--output artifacts/student]

For graded homework. Each notebook of ``notebooks/`` (found by glob) is copied with its ``solution`` cells
removed, its outputs and execution counts cleared, and a note under the title saying what this edition is.
Everything else (the exercise stubs and their checks, other cells' tags and metadata) is kept, so the edition
runs top to bottom and every exercise check answers "not attempted yet" until the student writes an answer;
``make student`` proves both with nbval (tests/student/exercise_status.py).
"""

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_TAG = "solution"
NOTE = (
    "> **Student edition** (vilab {version}): the reference solutions of the exercises are not in this copy. Each "
    "exercise's check answers *not attempted yet* until you write your answer, then *correct* or *not yet: <hint>*."
)


def package_version():
    """``vilab.__version__``, read from the source."""
    text = (ROOT / "src" / "vilab" / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)


def is_solution(cell):
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def student_notebook(nb, version):
    """A copy of ``nb`` without its solution cells and outputs, with the edition's note after the first cell."""
    nb = nbformat.from_dict(copy.deepcopy(nb))
    cells = [cell for cell in nb.cells if not is_solution(cell)]
    for cell in cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    note = nbformat.v4.new_markdown_cell(NOTE.format(version=version))
    note.metadata["tags"] = ["student-edition"]
    nb.cells = cells[:1] + [note] + cells[1:]
    nb.metadata.pop("widgets", None)
    return nb


def build(output, notebooks=None):
    """Write the edition of each notebook into ``output``; return {name: number of solution cells removed}."""
    notebooks = notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    output.mkdir(parents=True, exist_ok=True)
    for stale in output.glob("*.ipynb"):
        stale.unlink()
    version, removed = package_version(), {}
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        removed[path.name] = sum(is_solution(cell) for cell in nb.cells)
        nbformat.write(student_notebook(nb, version), output / path.name)
    return removed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "artifacts" / "student")
    args = parser.parse_args(argv)
    removed = build(args.output)
    for name, count in removed.items():
        print(f"  {name}: {count} solution cell{'s' if count != 1 else ''} removed")
    print(f"student edition: {len(removed)} notebooks in {args.output}")
    return 0 if removed else 1


if __name__ == "__main__":
    sys.exit(main())

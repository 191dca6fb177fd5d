"""pytest plugin for the nbval run on the student edition (``make student``): exercises read "not attempted yet".

Loaded with ``-p exercise_status`` (this folder on PYTHONPATH). Every cell of an edition's notebook that
calls a check of ``vilab.check`` (an exercise check) must print, for each check it calls, a line ending in
"not attempted yet", and no "correct" or "not yet: ..." line: with the reference solutions removed and the
stubs untouched, a check that answered anything else would misgrade a student who has done nothing. Each
notebook must have at least one exercise check, and every check cell must have been verified by the end of the
run (nbval itself fails a cell that raises).
"""

import ast
import inspect

import pytest

from vilab import check

CHECKS = {name for name, value in inspect.getmembers(check, inspect.isfunction) if name.startswith("check_")}
EXPECTED = {}  # (notebook, cell index) -> number of check calls; filled at collection
VERIFIED = set()


def check_calls(source):
    """How many calls to a vilab check the cell's code makes (0 for cells that are not Python, e.g. magics)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return 0
    names = (
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    )
    return sum(name in CHECKS for name in names)


def _key(item):
    return (str(item.path), getattr(item, "cell_num", None))


def pytest_collection_modifyitems(session, config, items):
    per_notebook = {}
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None:
            continue
        per_notebook.setdefault(str(item.path), 0)
        calls = check_calls(cell.source)
        if calls:
            EXPECTED[_key(item)] = calls
            per_notebook[str(item.path)] += 1
    without = [path for path, count in per_notebook.items() if count == 0]
    if without:
        raise pytest.UsageError(f"student edition: notebooks without any exercise check: {without}")


def statuses(outputs):
    lines = []
    for output in outputs or []:
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            lines += output.get("text", "").splitlines()
    return lines


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    calls = EXPECTED.get(_key(item))
    if calls:
        lines = statuses(item.test_outputs)
        not_attempted = [line for line in lines if line.endswith(check.NOT_ATTEMPTED)]
        graded = [line for line in lines if line.endswith(f": {check.CORRECT}") or line == check.CORRECT]
        graded += [line for line in lines if "not yet:" in line]
        assert len(not_attempted) == calls and not graded, (
            f"cell {item.cell_num}: {calls} exercise check(s) should each print '{check.NOT_ATTEMPTED}', "
            f"printed {lines}"
        )
        VERIFIED.add(_key(item))
    return result


def pytest_sessionfinish(session, exitstatus):
    unverified = sorted(set(EXPECTED) - VERIFIED)
    if unverified and exitstatus == 0:
        print(f"\nstudent edition: exercise checks never verified: {unverified}")
        session.exitstatus = 1
    elif EXPECTED and not unverified:
        print(f"\nstudent edition: {len(VERIFIED)} exercise check cells, each answered '{check.NOT_ATTEMPTED}'")

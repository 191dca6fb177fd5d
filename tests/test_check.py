"""vilab.check: the three statuses, printed and returned, never raising."""

import numpy as np
import pytest
import torch

from vilab.check import CORRECT, NOT_ATTEMPTED, check_function, check_value


@pytest.mark.parametrize("stub", [None, ...])
def test_stub_is_not_attempted(stub, capsys):
    assert check_value(stub, 1.0) == NOT_ATTEMPTED
    assert check_function(stub, np.sin, [(0.0,)]) == NOT_ATTEMPTED
    assert capsys.readouterr().out.count(NOT_ATTEMPTED) == 2


def test_numbers_arrays_and_tensors(capsys):
    assert check_value(0.1 + 0.2, 0.3) == CORRECT
    assert check_value(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]), name="ex1") == CORRECT
    assert "ex1: correct" in capsys.readouterr().out
    assert check_value(0.31, 0.3, hint="look at the sign") == "not yet: look at the sign"
    assert check_value([1.0, 2.0], [1.0, 2.0, 3.0]).startswith("not yet: expected shape (3,)")
    assert check_value(float("nan"), 1.0) == "not yet: the answer contains NaN or infinity"
    assert check_value("one", 1.0) == "not yet: the answer is the string 'one', not a number"


def test_tolerance_is_relative_and_absolute():
    assert check_value(1.0 + 1e-8, 1.0) == CORRECT
    assert check_value(1.0 + 1e-3, 1.0, rtol=1e-2) == CORRECT
    assert check_value(1.0 + 1e-3, 1.0) != CORRECT


def test_functions_are_run_on_every_input():
    inputs = [(0.0,), (1.0,), (2.5,)]
    assert check_function(np.square, lambda x: x**2, inputs) == CORRECT
    status = check_function(lambda x: x**2 if x < 2 else 0.0, lambda x: x**2, inputs, hint="square it")
    assert status == "not yet: wrong result for input (2.5). square it"


def test_student_code_that_raises_never_propagates():
    def not_written(x):
        raise NotImplementedError

    def broken(x):
        return 1 / 0

    assert check_function(not_written, np.sin, [(0.0,)]) == NOT_ATTEMPTED
    assert check_function(broken, np.sin, [(0.0,)]) == "not yet: calling it raised ZeroDivisionError: division by zero"
    assert (
        check_function(lambda x: None, np.sin, [(0.0,)])
        == "not yet: your function returned None (did you forget `return`?)"
    )

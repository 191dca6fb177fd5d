"""Properties of the exercise checks, on generated answers (hypothesis): never misgrade, never raise.

- a right answer, in any numeric form (int, float, numpy scalar or array, tensor of any
  float dtype, list), is "correct";
- a wrong answer (off by more than the tolerance, or not a number: a string, a bool, a
  complex number, NaN, the wrong shape) is never "correct";
- nothing the student can pass or do (any object, a function that raises anything but
  KeyboardInterrupt, one that changes its input) makes a check raise.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vilab.check import CORRECT, NOT_ATTEMPTED, check_function, check_value

SETTINGS = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
RTOL, ATOL = 1e-6, 1e-9
FLOAT_DTYPES = {torch.float64: 0.0, torch.float32: 2.0**-23, torch.float16: 2.0**-10, torch.bfloat16: 2.0**-7}

values = st.floats(min_value=-6e4, max_value=6e4, allow_nan=False, allow_infinity=False)  # float16 holds +-65504
vectors = st.lists(values, min_size=1, max_size=6)


def forms(value):
    """The same number written every way a student might: all should be graded correct."""
    out = [value, np.float64(value), np.array(value), torch.tensor(value, dtype=torch.float64)]
    out += [np.float32(value), np.array(value, dtype=np.float16)]
    out += [torch.tensor(value, dtype=dtype) for dtype in FLOAT_DTYPES]
    if float(value).is_integer() and abs(value) < 2**53:
        out += [int(value), np.int64(value), torch.tensor(int(value))]
    return out


def quiet(status_call):
    """Run a check without its printed line."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return status_call()


@SETTINGS
@given(values)
def test_a_right_number_in_any_form_is_correct(expected):
    for answer in forms(expected):
        status = quiet(lambda answer=answer: check_value(answer, expected, rtol=RTOL, atol=ATOL))
        assert status == CORRECT, (answer, expected, status)


@SETTINGS
@given(vectors)
def test_a_right_array_in_any_form_is_correct(expected):
    answers = [expected, tuple(expected), np.array(expected), np.array(expected, dtype=np.float32)]
    answers += [torch.tensor(expected, dtype=dtype) for dtype in FLOAT_DTYPES]
    answers += [[torch.tensor(v, requires_grad=True) for v in expected]]
    for answer in answers:
        status = quiet(lambda answer=answer: check_value(answer, expected))
        assert status == CORRECT, (answer, expected, status)


@st.composite
def wrong_numbers(draw):
    """(expected, a wrong answer in some form): off by more than the tolerance of the answer's precision."""
    expected = draw(values)
    dtype = draw(st.sampled_from(list(FLOAT_DTYPES)))
    eps = FLOAT_DTYPES[dtype]
    # the allowed error is atol + max(rtol, eps) |expected|; rounding to dtype adds at most eps/2 |answer|
    relative = draw(st.floats(min_value=4 * max(RTOL, eps), max_value=10.0))
    absolute = draw(st.floats(min_value=4 * ATOL + 1e-7, max_value=10.0))  # 1e-7 > float16's subnormal step
    sign = draw(st.sampled_from([-1.0, 1.0]))
    wrong = expected + sign * (relative * abs(expected) + absolute)
    if abs(wrong) > 6e4:
        wrong = expected - sign * (relative * abs(expected) + absolute)
    return expected, torch.tensor(wrong, dtype=dtype) if draw(st.booleans()) else np.float64(wrong)


@SETTINGS
@given(wrong_numbers())
def test_a_wrong_number_is_never_correct(case):
    expected, answer = case
    assert quiet(lambda: check_value(answer, expected, rtol=RTOL, atol=ATOL)) != CORRECT


not_numbers = st.one_of(
    st.text(max_size=5),
    st.booleans(),
    st.complex_numbers(allow_nan=False, allow_infinity=False, max_magnitude=1e6),
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.builds(object),
)


@SETTINGS
@given(values, not_numbers)
def test_what_is_not_a_real_number_is_never_correct(expected, answer):
    assert quiet(lambda: check_value(answer, expected)) != CORRECT


@SETTINGS
@given(values)
def test_the_right_value_in_a_disguise_is_never_correct(expected):
    disguises = [str(expected), repr(expected), complex(expected, 0.0), np.array([expected], dtype=complex)]
    disguises += [[expected, expected], [[expected]], bool(expected), np.array(expected) > 0]
    for answer in disguises:
        assert quiet(lambda answer=answer: check_value(answer, expected)) != CORRECT, answer


anything = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),  # huge ones too
        st.floats(),  # NaN and inf too
        st.complex_numbers(),
        st.text(max_size=4),
        st.binary(max_size=4),
        st.just(...),
    ),
    lambda children: st.one_of(st.lists(children, max_size=3), st.tuples(children, children)),
    max_leaves=8,
)


@SETTINGS
@given(anything, anything)
def test_check_value_never_raises(answer, expected):
    status = quiet(lambda: check_value(answer, expected))
    assert isinstance(status, str)


@SETTINGS
@given(st.integers(min_value=2**1024, max_value=10**400) | st.integers(max_value=-(2**1024), min_value=-(10**400)))
def test_integers_too_large_for_a_float_are_graded_not_raised(huge):
    assert quiet(lambda: check_value(huge, 1.0)) != CORRECT
    assert quiet(lambda: check_value(1.0, huge)) != CORRECT


class _StudentError(BaseException):
    """An exception from student code that is not an Exception."""


@SETTINGS
@given(
    st.sampled_from(
        [ValueError, ZeroDivisionError, SystemExit, GeneratorExit, _StudentError, StopIteration, RuntimeError]
    ),
    values,
)
def test_a_function_that_raises_anything_but_keyboard_interrupt_is_reported(error, x):
    def student(_):
        raise error("from the student")

    status = quiet(lambda: check_function(student, lambda v: 2 * v, [(x,)]))
    assert status.startswith("not yet: calling it raised")


def test_keyboard_interrupt_still_stops_the_cell():
    def student(_):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        quiet(lambda: check_function(student, lambda v: v, [(1.0,)]))


@SETTINGS
@given(vectors, st.floats(min_value=1e-3, max_value=1e3) | st.floats(min_value=-1e3, max_value=-1e-3))
def test_a_wrong_function_that_changes_its_input_is_never_correct(xs, offset):
    offset += math.copysign(2 * (ATOL + RTOL * max(abs(v) for v in xs)), offset)  # beyond the tolerance

    def wrong_in_place(t):  # adds offset in place: the reference must still see the original input
        t.add_(offset)
        return t

    def reference(t):
        return t + 0.0

    status = quiet(lambda: check_function(wrong_in_place, reference, [(torch.tensor(xs, dtype=torch.float64),)]))
    assert status != CORRECT


@SETTINGS
@given(vectors)
def test_a_right_function_that_works_in_place_is_correct(xs):
    inputs = [(torch.tensor(xs, dtype=torch.float64),), (np.array(xs),)]
    status = quiet(lambda: check_function(lambda t: t.__imul__(2), lambda t: 2 * t, inputs))
    assert status == CORRECT
    assert np.array_equal(inputs[1][0], np.array(xs))  # the caller's inputs are untouched


@SETTINGS
@given(vectors, st.floats(min_value=1e-3, max_value=1e3))
def test_a_function_off_by_a_constant_is_never_correct(xs, offset):
    offset += 2 * (ATOL + RTOL * 2 * max(abs(v) for v in xs))  # beyond the tolerance
    status = quiet(lambda: check_function(lambda v: np.asarray(v) * 2 + offset, lambda v: np.asarray(v) * 2, [(xs,)]))
    assert status.startswith("not yet: wrong result")


def test_stubs_and_forgotten_returns():
    assert quiet(lambda: check_value(None, 1.0)) == NOT_ATTEMPTED
    assert quiet(lambda: check_function(None, abs, [(1.0,)])) == NOT_ATTEMPTED
    assert quiet(lambda: check_function(lambda x: None, abs, [(1.0,)])).endswith("did you forget `return`?)")

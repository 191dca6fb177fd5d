"""Self-checks for exercises: tell the student at once, never raise, never misgrade.

Every check prints one line and returns one of three statuses:

- ``"correct"``
- ``"not attempted yet"``: the answer is still the stub (``None`` or ``...``),
  or the student's function raises ``NotImplementedError``;
- ``"not yet: <hint>"``: the answer is wrong, or is not a number, or the function
  raised an error or returned ``None`` (a forgotten ``return``).

So a notebook whose exercises are untouched still runs top to bottom, and a
reference solution can be asserted with ``assert check_...(...) == CORRECT``.

The rules, decided once:

- **What counts as a number.** A Python int or float, a numpy integer or float
  (scalar or array), a torch tensor of an integer or float dtype (any: float16,
  bfloat16 included; a tensor that requires grad is detached), or a list/tuple of
  those. Strings ("0.5"), bools (True is not 1.0) and complex numbers are *not*
  numbers, so they are never "correct". An int too large for a float (10**400) is
  "not yet", not an error.
- **Tolerance.** ``|answer - expected| <= atol + rtol * |expected|`` elementwise, same
  shape. An answer in a lower precision than float64 (float32, float16, bfloat16) is
  compared with a relative tolerance of at least that dtype's machine epsilon (and an
  absolute one of at least its smallest subnormal), so rounding to the dtype the
  student chose never fails a right answer.
- **Copies.** ``check_function`` gives the student's function and the reference each
  their own deep copy of every input, so a function that modifies its input in place
  can neither fool the reference nor be failed for doing so.
- **Never raise.** Every exception from the student's code, ``SystemExit`` and other
  ``BaseException`` subclasses included, becomes a hint; only ``KeyboardInterrupt``
  (the student pressing stop) propagates.
"""

import copy
import math
import numbers
import sys

import numpy as np

CORRECT = "correct"
NOT_ATTEMPTED = "not attempted yet"
RETURNED_NONE = "your function returned None (did you forget `return`?)"


def _is_stub(answer):
    return answer is None or answer is Ellipsis


def _report(status, name):
    prefix = f"{name}: " if name else ""
    print(prefix + status)
    return status


class _NotANumber(Exception):
    """The value is not a number or an array of numbers; the message says why."""


def _torch():
    return sys.modules.get("torch")  # a tensor answer means torch is already imported: never import it here


def _resolution(dtype):
    """(machine epsilon, smallest subnormal) of a float dtype, or (0, 0) for float64 and integers."""
    torch = _torch()
    if torch is not None and isinstance(dtype, torch.dtype):
        if not dtype.is_floating_point or dtype == torch.float64:
            return 0.0, 0.0
        info = torch.finfo(dtype)
        return float(info.eps), float(info.smallest_normal) * float(info.eps)
    if np.issubdtype(dtype, np.floating) and np.finfo(dtype).bits < 64:
        info = np.finfo(dtype)
        return float(info.eps), float(info.smallest_subnormal)
    return 0.0, 0.0


def _as_array(value, resolution):
    """``value`` as a float64 array, or raise ``_NotANumber``; ``resolution`` collects the dtypes' precision."""
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        if value.dtype == torch.bool or value.is_complex():
            raise _NotANumber(f"the answer is a tensor of dtype {value.dtype}, not of real numbers")
        resolution.append(_resolution(value.dtype))
        return value.detach().cpu().to(torch.float64).numpy()
    if isinstance(value, (bool, np.bool_)):
        raise _NotANumber(f"the answer is the bool {value!r}, not a number")
    if isinstance(value, (str, bytes)):
        raise _NotANumber(f"the answer is the string {_short(value)}, not a number")
    if isinstance(value, (complex, np.complexfloating)):
        raise _NotANumber(f"the answer is the complex number {value!r}, a real number was expected")
    if isinstance(value, numbers.Integral):
        if abs(int(value)) > sys.float_info.max:
            digits = int(math.log10(abs(int(value)))) + 1
            raise _NotANumber(f"the answer is an integer with {digits} digits: too large for a float")
        return np.array(float(value))
    if isinstance(value, np.generic):
        if value.dtype.kind not in "iuf":
            raise _NotANumber(f"the answer has dtype {value.dtype}, not a real number")
        resolution.append(_resolution(value.dtype))
        return np.array(value, dtype=float)
    if isinstance(value, numbers.Real):
        return np.array(float(value))
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "iufO":
            raise _NotANumber(f"the answer is an array of dtype {value.dtype}, not of real numbers")
        if value.dtype.kind == "O":
            return _stack([_as_array(item, resolution) for item in value.ravel()], value.shape)
        resolution.append(_resolution(value.dtype))
        return value.astype(float)
    if isinstance(value, (list, tuple)):
        return _stack([_as_array(item, resolution) for item in value], None)
    raise _NotANumber(f"the answer is a {type(value).__name__}, not a number or an array of numbers")


def _stack(items, shape):
    try:
        array = np.array(items, dtype=float)
    except ValueError:
        raise _NotANumber("the answer is a ragged list: its rows have different lengths") from None
    return array.reshape(shape) if shape is not None else array


def _close(answer, expected, rtol, atol):
    """(ok, why): whether ``answer`` is within tolerance of ``expected``."""
    resolution = []
    try:
        answer = _as_array(answer, resolution)
    except _NotANumber as error:
        return False, str(error)
    try:
        expected = _as_array(expected, resolution)
    except _NotANumber as error:
        return False, f"the check's expected value is not usable ({error}); please report this"
    if answer.shape != expected.shape:
        return False, f"expected shape {expected.shape}, got {answer.shape}"
    if not np.all(np.isfinite(answer)):
        return False, "the answer contains NaN or infinity"
    eps, tiny = max(resolution, default=(0.0, 0.0))
    with np.errstate(all="ignore"):
        allowed = max(atol, tiny) + max(rtol, eps) * np.abs(expected)
        if np.all(np.abs(answer - expected) <= allowed):
            return True, ""
    return False, ""


def _tolerances(rtol, atol):
    """The check's own settings: a message if they are unusable (the notebook's author must fix them)."""
    for label, value in (("rtol", rtol), ("atol", atol)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (math.isfinite(value) and value >= 0):
            return f"not yet: the check itself is misconfigured ({label} must be a number >= 0, got {value!r})"
    return None


def check_value(answer, expected, *, hint="", rtol=1e-6, atol=1e-9, name=""):
    """Compare a number or array ``answer`` with ``expected``.

    Correct when ``|answer - expected| <= atol + rtol * |expected|`` elementwise
    (same shape; see the module docstring for what counts as a number and for
    low-precision answers). Returns the status string and prints it. Never raises.
    """
    try:
        if _is_stub(answer):
            return _report(NOT_ATTEMPTED, name)
        problem = _tolerances(rtol, atol)
        if problem:
            return _report(problem, name)
        ok, why = _close(answer, expected, rtol, atol)
        if ok:
            return _report(CORRECT, name)
        return _report(f"not yet: {why or hint or 'the value is not the expected one'}", name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - a check never raises (an answer object with a broken __array__...)
        return _report(f"not yet: the answer could not be compared ({type(error).__name__}: {error})", name)


def _call(function, args):
    """(value, None) or (None, status) for ``function(*deep copy of args)``; never raises but KeyboardInterrupt."""
    try:
        own = copy.deepcopy(args)
    except Exception:  # noqa: BLE001 - an input that cannot be copied is passed as is
        own = args
    try:
        return function(*own), None
    except NotImplementedError:
        return None, NOT_ATTEMPTED
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - SystemExit, exit() and any error in student code: report
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return None, f"not yet: calling it raised {text}"


def check_function(func, reference, inputs, *, hint="", rtol=1e-6, atol=1e-9, name=""):
    """Run ``func`` and ``reference`` on each argument tuple in ``inputs`` and compare.

    ``inputs`` is a list of tuples of positional arguments (a non-tuple item is one
    argument); each call gets its own deep copy of them. A ``func`` that is
    ``None``/``...`` or raises ``NotImplementedError`` is "not attempted yet"; one that
    returns ``None`` is told so; any other exception becomes a hint naming it. Never raises.
    """
    try:
        if _is_stub(func):
            return _report(NOT_ATTEMPTED, name)
        if not callable(func):
            return _report(f"not yet: {_short(func)} is not a function (define it with def)", name)
        problem = _tolerances(rtol, atol)
        if problem:
            return _report(problem, name)
        for args in list(inputs):
            args = args if isinstance(args, tuple) else (args,)
            got, status = _call(func, args)
            if status is not None:
                return _report(status, name)
            if got is None:
                return _report(f"not yet: {RETURNED_NONE}", name)
            if got is Ellipsis:
                return _report(NOT_ATTEMPTED, name)
            expected, status = _call(reference, args)
            if status is not None:
                return _report(f"not yet: the reference failed on this input ({status}); please report this", name)
            ok, why = _close(got, expected, rtol, atol)
            if not ok:
                shown = ", ".join(_short(a) for a in args)
                return _report(f"not yet: wrong result for input ({shown}). {why or hint}".rstrip(), name)
        return _report(CORRECT, name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # noqa: BLE001 - a check never raises
        return _report(f"not yet: the check could not run ({type(error).__name__}: {error})", name)


def _short(value):
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a student's object with a broken __repr__
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."

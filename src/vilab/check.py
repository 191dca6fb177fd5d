"""Self-checks for exercises: tell the student at once, never raise.

Every check prints one line and returns one of three statuses:

- ``"correct"``
- ``"not attempted yet"``: the answer is still the stub (``None`` or ``...``),
  or the student's function raises ``NotImplementedError``;
- ``"not yet: <hint>"``: the answer is wrong (or raised an error).

So a notebook whose exercises are untouched still runs top to bottom, and a
reference solution can be asserted with ``assert check_...(...) == CORRECT``.
"""

import sys

import numpy as np

CORRECT = "correct"
NOT_ATTEMPTED = "not attempted yet"


def _is_stub(answer):
    return answer is None or answer is Ellipsis


def _report(status, name):
    prefix = f"{name}: " if name else ""
    print(prefix + status)
    return status


def _as_array(value):
    torch = sys.modules.get("torch")  # a tensor answer means torch is already imported: never import it here
    if torch is not None and isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=float)


def _close(answer, expected, rtol, atol):
    try:
        answer, expected = _as_array(answer), _as_array(expected)
    except (TypeError, ValueError):
        return False, "the answer is not a number or an array of numbers"
    if answer.shape != expected.shape:
        return False, f"expected shape {expected.shape}, got {answer.shape}"
    if not np.all(np.isfinite(answer)):
        return False, "the answer contains NaN or infinity"
    if np.allclose(answer, expected, rtol=rtol, atol=atol):
        return True, ""
    return False, ""


def check_value(answer, expected, *, hint="", rtol=1e-6, atol=1e-9, name=""):
    """Compare a number or array ``answer`` with ``expected``.

    Correct when ``|answer - expected| <= atol + rtol * |expected|`` elementwise
    (same shape). Returns the status string and prints it.
    """
    if _is_stub(answer):
        return _report(NOT_ATTEMPTED, name)
    ok, why = _close(answer, expected, rtol, atol)
    if ok:
        return _report(CORRECT, name)
    return _report(f"not yet: {why or hint or 'the value is not the expected one'}", name)


def check_function(func, reference, inputs, *, hint="", rtol=1e-6, atol=1e-9, name=""):
    """Run ``func`` and ``reference`` on each argument tuple in ``inputs`` and compare.

    ``inputs`` is a list of tuples of positional arguments. A ``func`` that is
    ``None``/``...`` or raises ``NotImplementedError`` is "not attempted yet";
    any other exception becomes a hint naming it. Never raises.
    """
    if _is_stub(func):
        return _report(NOT_ATTEMPTED, name)
    for args in inputs:
        try:
            got = func(*args)
        except NotImplementedError:
            return _report(NOT_ATTEMPTED, name)
        except Exception as error:  # noqa: BLE001 - report, never raise
            return _report(f"not yet: calling it raised {type(error).__name__}: {error}", name)
        if _is_stub(got):
            return _report(NOT_ATTEMPTED, name)
        ok, why = _close(got, reference(*args), rtol, atol)
        if not ok:
            shown = ", ".join(_short(a) for a in args)
            return _report(f"not yet: wrong result for input ({shown}). {why or hint}".rstrip(), name)
    return _report(CORRECT, name)


def _short(value):
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

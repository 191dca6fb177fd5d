"""Argument checks shared by the package: errors name the parameter and the value.

The rules every public function of vilab follows (decided once, here):

- **Numbers.** A scalar parameter is a Python int or float, a numpy scalar, or a 0-d
  array or tensor. ``bool`` is not a number, nor is a string ("3") or a complex number.
  NaN and +-inf are rejected with a ``ValueError`` naming the parameter and the value.
- **Seeds.** ``seed`` is ``None`` or an integer in [0, 2**63). ``None`` means fresh
  randomness drawn from the global generator of the library that samples: torch's
  (``torch.manual_seed`` makes it reproducible) or numpy's (``np.random.seed``). A
  non-integer seed (2.5, "3", True) raises a ``TypeError`` naming ``seed``: it is never
  truncated.
- **Arrays and tensors.** Where a function only needs values, a tensor that requires
  grad is detached and any real dtype is accepted (the Gaussian closed forms of
  ``vilab.gaussian`` stay differentiable instead). NaN or inf entries are rejected,
  naming the parameter, the value and its index; empty, boolean, complex and string
  arrays are rejected.
- **Standard deviations** lie in [1e-150, 1e150], so that their squares are normal
  floats (outside, every formula underflows or overflows).
- **Functions written by a student** (``f`` of the estimators, ``log_prob`` of the
  inference methods) must use torch operations: one written with numpy or math is
  told so, and NaN or inf values it returns are reported with the offending input.

The VAE's own rules (dtype casts, uint8 images) are in ``vilab.vae``; the exercise
checks' rules are in ``vilab.check``.
"""

import math
import numbers
import sys

import numpy as np

MIN_SCALE, MAX_SCALE = 1e-150, 1e150  # standard deviations whose squares are normal float64 numbers
MAX_SEED = 2**63  # seeds live in [0, MAX_SEED): what both torch and numpy accept


def _torch():
    """torch if it is already imported (a tensor argument means it is), else None: never import it here."""
    return sys.modules.get("torch")


def _is_tensor(value):
    torch = _torch()
    return torch is not None and isinstance(value, torch.Tensor)


def shown(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- scalars ---------------------------------------------------------------------


def _scalar(name, value, kind):
    """``value`` as a Python number of ``kind`` (numbers.Real or numbers.Integral), else a TypeError."""
    what = "an integer" if kind is numbers.Integral else "a real number"
    if _is_tensor(value) or isinstance(value, np.ndarray):
        if value.ndim != 0:
            raise TypeError(f"{name} must be {what}, got an array of shape {tuple(value.shape)}: {shown(value)}")
        value = value.item()  # a bool or complex item is rejected below
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kind):
        raise TypeError(f"{name} must be {what}, got {shown(value)} of type {type(value).__name__}")
    return value


def finite(name, value):
    """Return ``value`` as a float, raising if it is not a finite real number."""
    value = _scalar(name, value, numbers.Real)
    try:
        result = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got {shown(value)}, which is too large for a float") from None
    if not math.isfinite(result):
        raise ValueError(f"{name} must be finite, got {result!r}")
    return result


def positive(name, value):
    """Return ``value`` as a float, raising if it is not a finite number > 0."""
    value = finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return value


def nonnegative(name, value):
    """Return ``value`` as a float, raising if it is not a finite number >= 0."""
    value = finite(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def in_range(name, value, low, high, *, closed=(True, True)):
    """Return ``value`` as a float in [low, high] (or the open variants set by ``closed``)."""
    value = finite(name, value)
    below = value < low if closed[0] else value <= low
    above = value > high if closed[1] else value >= high
    if below or above:
        left, right = "[" if closed[0] else "(", "]" if closed[1] else ")"
        raise ValueError(f"{name} must be in {left}{low}, {high}{right}, got {value!r}")
    return value


def scale(name, value):
    """A standard deviation: a float in [1e-150, 1e150] (its square is then a normal float)."""
    value = positive(name, value)
    if not MIN_SCALE <= value <= MAX_SCALE:
        raise ValueError(
            f"{name} must be between {MIN_SCALE:g} and {MAX_SCALE:g} (its square must be a normal float), got {value!r}"
        )
    return value


def integer(name, value, minimum=None, maximum=None):
    """Return ``value`` as an int in [minimum, maximum] (bounds optional); never truncates a float."""
    value = int(_scalar(name, value, numbers.Integral))
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value!r}")
    return value


def positive_int(name, value):
    """Return ``value`` as an int, raising if it is not an integer in [1, 2**63)."""
    return integer(name, value, 1, MAX_SEED - 1)


def one_of(name, value, allowed):
    """Return ``value`` if it is in ``allowed`` (strings), else raise naming the valid choices."""
    choices = sorted(allowed)
    if not isinstance(value, str):
        kind = type(value).__name__
        raise TypeError(f"{name} must be one of {choices!r} (a string), got {shown(value)} of type {kind}")
    if value not in allowed:
        raise ValueError(f"{name} must be one of {choices!r}, got {value!r}")
    return value


def callable_(name, value, what="a function"):
    if not callable(value):
        raise TypeError(f"{name} must be {what}, got {shown(value)}")
    return value


# --- seeds --------------------------------------------------------------------------


def seed(value, name="seed"):
    """Return ``None`` or the integer seed; see the module docstring for what ``None`` means."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be None or an integer, got {shown(value)} of type {type(value).__name__}")
    return integer(name, value, 0, MAX_SEED - 1)


def torch_generator(value, device="cpu", name="seed"):
    """A ``torch.Generator`` seeded with ``seed``, or ``None`` (torch's global generator) for ``seed=None``.

    Every torch sampling function takes ``generator=None`` to mean the global generator.
    """
    value = seed(value, name)
    if value is None:
        return None
    import torch

    return torch.Generator(device).manual_seed(value)


def fresh_seed(value, name="seed"):
    """The integer ``seed``, or for ``None`` one drawn from torch's global generator (for code that needs an int)."""
    value = seed(value, name)
    if value is not None:
        return value
    import torch

    return int(torch.randint(0, 2**62, ()).item())


def fresh_numpy_seed(value, name="seed"):
    """The integer ``seed``, or for ``None`` one drawn from numpy's global generator (``np.random.seed``)."""
    value = seed(value, name)
    return int(np.random.randint(0, 2**62, dtype=np.int64)) if value is None else value


def numpy_rng(value, name="seed"):
    """``np.random.default_rng(seed)``; for ``None`` a generator seeded by numpy's global one (``np.random.seed``)."""
    return np.random.default_rng(fresh_numpy_seed(value, name))


# --- arrays -------------------------------------------------------------------------


def _tensor_to_numpy(tensor):
    tensor = tensor.detach().cpu()
    if tensor.is_floating_point() and tensor.dtype not in (_torch().float32, _torch().float64):
        tensor = tensor.double()  # float16, bfloat16: numpy has no bfloat16
    return tensor.resolve_conj().numpy()


def to_numpy(value):
    """``value`` as a numpy array without copying data needlessly: tensors (also inside lists) are detached."""
    if _is_tensor(value):
        return _tensor_to_numpy(value)
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except (TypeError, RuntimeError, ValueError):  # a list of tensors that require grad, or of bfloat16 tensors
        if isinstance(value, (list, tuple)) and value:
            return np.asarray([to_numpy(item) for item in value])
        raise


def _first_bad(array, bad):
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    return array[index], index if len(index) != 1 else index[0]


def real_array(name, value, *, ndim=None, min_size=1):
    """``value`` (number, list, numpy array or tensor) as a float64 numpy array of finite real numbers.

    ``ndim`` is an int or a tuple of allowed numbers of dimensions. Raises a TypeError
    for anything that is not real numbers (strings, bools, complex, None, objects) and a
    ValueError for the wrong number of dimensions, too few entries, or NaN/inf.
    """
    if value is None or isinstance(value, (str, bytes, dict, set)):
        raise TypeError(f"{name} must be an array of real numbers, got {shown(value)}")
    try:
        array = to_numpy(value)
    except (TypeError, RuntimeError, ValueError) as error:
        raise TypeError(f"{name} must be a (rectangular) array of real numbers, got {shown(value)}") from error
    kind = array.dtype.kind
    if kind == "O":
        items = array.ravel()
        if any(isinstance(v, (bool, np.bool_, str, bytes, complex)) or not isinstance(v, numbers.Real) for v in items):
            raise TypeError(f"{name} must be an array of real numbers, got {shown(value)}")
        try:
            array = array.astype(float)
        except OverflowError:
            raise ValueError(f"{name} must be finite, got a number too large for a float in {shown(value)}") from None
        kind = "f"
    if kind not in "iuf":
        what = {"b": "booleans", "c": "complex numbers", "U": "strings", "S": "bytes"}.get(kind, f"dtype {array.dtype}")
        raise TypeError(f"{name} must be an array of real numbers, got {what}: {shown(value)}")
    array = np.asarray(array, dtype=float)
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if allowed is not None and array.ndim not in allowed:
        dims = " or ".join(f"{d}-D" for d in allowed)
        raise ValueError(f"{name} must be {dims}, got shape {array.shape}")
    if array.size < min_size:
        need = "must not be empty" if min_size == 1 else f"must have at least {min_size} entries"
        raise ValueError(f"{name} {need}, got shape {array.shape}")
    bad = ~np.isfinite(array)
    if bad.any():
        offending, index = _first_bad(array, bad)
        where = f" at index {index}" if array.ndim else ""
        raise ValueError(f"{name} must be finite, got {float(offending)!r}{where}")
    return array


def positive_array(name, value, **kwargs):
    """``real_array`` whose entries are all > 0."""
    array = real_array(name, value, **kwargs)
    if (array <= 0).any():
        offending, index = _first_bad(array, array <= 0)
        raise ValueError(f"{name} must be > 0, got {float(offending)!r}" + (f" at index {index}" if array.ndim else ""))
    return array


# --- calling a student's torch function --------------------------------------------


def call_torch_function(name, function, x):
    """``function(x)`` for a torch tensor x, turning the errors of numpy/math code into one clear message."""
    import torch

    try:
        value = function(x)
    except (TypeError, RuntimeError, ValueError) as error:  # math.cos(tensor): "only one element tensors ..."
        raise TypeError(
            f"{name} must use torch operations on its torch tensor input (torch.cos, torch.exp, ..., not np.cos "
            f"or math.cos); calling it raised {type(error).__name__}: {error}"
        ) from error
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{name} must use torch operations and return a torch tensor (torch.cos, not np.cos or math.cos), "
            f"got {type(value).__name__}"
        )
    if value.is_complex():
        raise TypeError(f"{name} must return real numbers, got a tensor of dtype {value.dtype}")
    return value


def report_non_finite(name, values, inputs, what="returned"):
    """Raise ``"<name> returned NaN at x = ..."`` if a value is NaN or infinite (nothing if all are finite)."""
    import torch

    bad = ~torch.isfinite(values.detach())
    if bad.any():
        i = int(bad.nonzero()[0][0]) if values.dim() else 0
        value = float(values.detach().reshape(-1)[i])
        where = inputs.detach().reshape(inputs.shape[0], -1)[i] if inputs.dim() else inputs.detach()
        shown = float(where) if where.numel() == 1 else where.tolist()
        raise ValueError(f"{name} {what} {value!r} at x = {shown!r} (NaN and inf cannot be averaged)")

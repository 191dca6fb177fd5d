"""IPython start-up file of the site build's kernels: a figure's plain-text form describes the figure.

Copied by ``site/build.py`` into the build kernel's (temporary) IPython profile,
never into a student's. Jupyter stores every figure as a PNG plus a plain-text
form, normally ``<Figure size 800x320 with 2 Axes>``; here the plain text
names what each panel shows instead (its title, axis labels and legend
entries), which the build turns into the figure's alt text. Nothing else in
the kernel changes.
"""


def _clean(text):
    return " ".join(str(text).replace("$", "").split())


def _describe_axes(ax):
    parts = []
    title = " ".join(_clean(ax.get_title(loc)) for loc in ("left", "center", "right") if ax.get_title(loc))
    if title:
        parts.append(f"'{title}'")
    x, y = _clean(ax.get_xlabel()), _clean(ax.get_ylabel())
    if x and y:
        parts.append(f"{y} against {x}")
    elif x or y:
        parts.append(x or y)
    if ax.images and not (x or y):
        parts.append("image")
    legend = ax.get_legend()
    if legend is not None:
        labels = [_clean(t.get_text()) for t in legend.get_texts() if t.get_text()]
        if labels:
            parts.append("legend: " + ", ".join(labels[:8]))
    return "; ".join(parts)


def describe_figure(fig):
    """One sentence: how many panels and what each shows (title, 'y against x', legend)."""
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.get_label() != "<colorbar>"]
    described = [d for d in (_describe_axes(ax) for ax in axes) if d]
    suptitle = _clean(fig._suptitle.get_text()) if getattr(fig, "_suptitle", None) else ""
    head = f"Figure '{suptitle}'" if suptitle else "Figure"
    if not described:
        return f"{head} with {len(axes)} panel{'s' if len(axes) != 1 else ''}"
    unique = list(dict.fromkeys(described))  # small multiples with identical labels are listed once
    count = f" with {len(axes)} panels" if len(axes) > 1 else ""
    return f"{head}{count}: " + " | ".join(unique[:6])


def _pretty(fig, printer, cycle):
    try:
        printer.text(describe_figure(fig))
    except Exception:  # noqa: BLE001 - a description must never break a cell
        printer.text(repr(fig))


def _register(*_):
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/plain"].for_type_by_name("matplotlib.figure", "Figure", _pretty)


def _install():
    """Register now and again after every cell, before the inline backend shows the cell's figures.

    ``%matplotlib inline`` resets every formatter of Figure, so registering once is not enough; a
    ``post_execute`` callback registered here runs before the backend's own (registered later).
    """
    from IPython import get_ipython

    shell = get_ipython()
    if shell is not None:
        _register()
        shell.events.register("post_execute", _register)


_install()

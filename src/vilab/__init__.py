"""vilab: the thin package behind the vilab course on variational inference.

The ideas are taught in the notebooks; this package holds the plumbing (data,
plots, widgets, training loops) and the tested reference implementations the
notebooks check themselves against.
"""

__version__ = "0.1.0"

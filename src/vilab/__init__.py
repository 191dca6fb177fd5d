"""vilab: the thin package behind the vilab course on variational inference.

The ideas are taught in the notebooks; this package holds the plumbing (data,
plots, widgets, training loops) and the tested reference implementations the
notebooks check themselves against.

Importing vilab sets torch's thread count once, by the policy documented in
``vilab.threads`` (never more threads than the CPUs this process may use; the
user's own choice wins).
"""

from vilab import threads

__version__ = "0.1.0"

threads.apply()

"""Where the course lives, for the website: the GitHub repository and the release tag.

Every Binder and Colab link of the site (the launch buttons on each page, the
landing page's "how to start") is built from these two values, read from the
course's one setting, ``[tool.vilab]`` in pyproject.toml (``repository`` and
``release``), which the notebooks' badges follow too. Without that table the
defaults are the upstream repository and ``v`` + ``vilab.__version__``. The
environment variables ``VILAB_REPOSITORY`` and ``VILAB_RELEASE_TAG`` override
both for one build.
"""

import os
import re
import tomllib
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]


def package_version():
    """``vilab.__version__``, read from the source (the site build never imports the package)."""
    text = (ROOT / "src" / "vilab" / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.MULTILINE).group(1)


def course_setting():
    """``[tool.vilab]`` of pyproject.toml ({} if absent)."""
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file).get("tool", {}).get("vilab", {})


REPOSITORY = os.environ.get("VILAB_REPOSITORY") or course_setting().get("repository", "vilab-course/vilab")
RELEASE_TAG = os.environ.get("VILAB_RELEASE_TAG") or course_setting().get("release", f"v{package_version()}")


def repository_url():
    return f"https://github.com/{REPOSITORY}"


def binder_url(path="notebooks/00_start_here.ipynb"):
    """mybinder.org at the release tag, JupyterLab opened at ``path`` (relative to the repository root)."""
    return f"https://mybinder.org/v2/gh/{REPOSITORY}/{quote(RELEASE_TAG)}?urlpath=lab/tree/{path}"


def colab_url(path="notebooks/00_start_here.ipynb"):
    """Google Colab opening ``path`` at the release tag."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{quote(RELEASE_TAG)}/{path}"

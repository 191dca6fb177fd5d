"""What instructors rely on: citation, licences, the pre-commit hooks, the guide (CONTRIBUTING.md)."""

import datetime
import re
import sys
from pathlib import Path

import yaml

import vilab

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "site"))
import settings  # noqa: E402 - site/settings.py: the repository and release tag the site's links use


def load_yaml(name):
    return yaml.safe_load((ROOT / name).read_text())


def pinned_version(package, *requirement_files):
    """The ``package==X`` pin of the first requirements file that exists and pins it."""
    for name in requirement_files:
        path = ROOT / name
        if path.exists():
            match = re.search(rf"^{re.escape(package)}==(\S+)", path.read_text(), re.MULTILINE)
            if match:
                return match.group(1)
    raise AssertionError(f"{package} is pinned in none of {requirement_files}")


def test_citation_is_complete_and_names_this_version():
    citation = load_yaml("CITATION.cff")
    missing = {"cff-version", "message", "title", "authors", "version", "date-released", "repository-code",
               "license"} - set(citation)  # fmt: skip
    assert not missing, f"CITATION.cff lacks {sorted(missing)}"
    assert str(citation["version"]) == vilab.__version__, (
        f"CITATION.cff says version {citation['version']}, vilab.__version__ is {vilab.__version__}: "
        "update both when cutting a release (CONTRIBUTING.md)"
    )
    assert isinstance(citation["date-released"], datetime.date), "date-released must be a date, YYYY-MM-DD"
    assert citation["repository-code"] == settings.repository_url(), (
        f"CITATION.cff's repository-code {citation['repository-code']} is not the course's repository "
        f"{settings.repository_url()} ([tool.vilab] in pyproject.toml)"
    )
    assert set(citation["license"]) == {"MIT", "CC-BY-4.0"}


def test_licences_are_separate_files_with_a_way_to_attribute():
    code = (ROOT / "LICENSE").read_text()
    assert code.startswith("MIT License") and "Creative Commons" not in code
    text = (ROOT / "LICENSE-CC-BY-4.0.md").read_text()
    for clause in ("Section 1 – Definitions.", "Section 3 – License Conditions.", "Section 8 – Interpretation."):
        assert clause in text, f"LICENSE-CC-BY-4.0.md lacks the legal code's {clause!r}"
    attribution = re.search(r"\*\*How to attribute:\*\* (.+)", text)
    assert attribution and settings.repository_url() in attribution.group(1) and "CC BY 4.0" in attribution.group(1)


def test_pre_commit_hooks_are_the_versions_ci_uses():
    repos = {repo["repo"].rsplit("/", 1)[-1]: repo for repo in load_yaml(".pre-commit-config.yaml")["repos"]}
    assert set(repos) == {"nbstripout", "ruff-pre-commit"}
    assert repos["nbstripout"]["rev"] == pinned_version("nbstripout", "site/requirements.txt")
    ruff = pinned_version("ruff", "requirements-test.txt", "requirements-dev.txt")
    assert repos["ruff-pre-commit"]["rev"] == f"v{ruff}", f"ruff hook {repos['ruff-pre-commit']['rev']}, CI {ruff}"
    assert {hook["id"] for hook in repos["ruff-pre-commit"]["hooks"]} == {"ruff-check", "ruff-format"}
    (strip,) = repos["nbstripout"]["hooks"]
    assert strip["id"] == "nbstripout"
    args = " ".join(strip.get("args", []))
    assert "--keep-output" not in args and "--keep-count" not in args, "the hook must strip outputs and counts"
    stripped_too = args.split("--extra-keys", 1)[1] if "--extra-keys" in args else ""
    assert "cell.metadata.tags" not in stripped_too, "the hook must keep cell tags (the `solution` tag)"


def test_the_guide_covers_adapting_testing_releasing_and_forking():
    guide = (ROOT / "CONTRIBUTING.md").read_text()
    for needle in ("make test", "make test-seeds", "make student", "make site", "pre-commit", "solution",
                   "[tool.vilab]", "git tag", "CITATION.cff"):  # fmt: skip
        assert needle in guide, f"CONTRIBUTING.md does not mention {needle!r}"

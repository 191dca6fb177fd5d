"""The pre-commit nbstripout hook, run with the configuration's own arguments (``make test-site``; needs nbstripout).

It must strip outputs and execution counts, keep cell tags (the ``solution`` tag), and leave every committed
notebook of the course byte for byte as it is.
"""

import json
import shutil
import subprocess
import sys

import nbformat
import yaml
from site_helpers import ROOT


def hook_args():
    for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]:
        for hook in repo["hooks"]:
            if hook["id"] == "nbstripout":
                return list(hook.get("args", []))
    raise AssertionError("no nbstripout hook in .pre-commit-config.yaml")


def strip(*paths):
    subprocess.run([sys.executable, "-m", "nbstripout", *hook_args(), *map(str, paths)], check=True, timeout=120)


def test_the_hook_strips_outputs_and_keeps_tags(tmp_path):
    nb = nbformat.v4.new_notebook()
    solution = nbformat.v4.new_code_cell("print(2)", metadata={"tags": ["solution"], "scrolled": True})
    solution.outputs = [nbformat.v4.new_output("stream", text="2\n")]
    solution.execution_count = 7
    nb.cells = [nbformat.v4.new_markdown_cell("# Title", metadata={"tags": ["header"]}), solution]
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    strip(path)
    cells = json.loads(path.read_text())["cells"]
    assert cells[1]["outputs"] == [] and cells[1]["execution_count"] is None
    assert [cell["metadata"].get("tags") for cell in cells] == [["header"], ["solution"]]
    assert [cell["id"] for cell in cells] == [cell.id for cell in nb.cells], "cell ids must not churn"
    assert "widgets" not in json.loads(path.read_text())["metadata"]


def test_the_hook_leaves_the_committed_notebooks_unchanged(tmp_path):
    originals = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in originals:
        shutil.copy(path, tmp_path / path.name)
    strip(*(tmp_path / path.name for path in originals))
    changed = [path.name for path in originals if (tmp_path / path.name).read_bytes() != path.read_bytes()]
    assert not changed, f"the hook would rewrite {changed}: commit them as the hook leaves them"

"""Install the CPU build of torch (the version pinned in requirements.txt) into this Python, or refuse.

Run by `make lab` / `make test` with the venv's Python, before the other requirements:

    python tools/install_torch.py [--index URL] [-- PIP_ARGS...]   install (or repair) and say which build was
        installed; PIP_ARGS (e.g. -r requirements.txt -e .) are installed too, in the same pip run where the
        CPU index is not needed (one dependency resolution instead of two: pip is slow to resolve)
    python tools/install_torch.py --check         only check that the installed torch is a CPU build

On Linux, PyPI's torch wheel is the CUDA build: the wheel plus its nvidia-* dependencies weigh several GB.
So, in order:
1. a CPU build of the pinned version already installed: nothing to do;
2. a CUDA build installed (an older set-up): it is uninstalled (torch and its nvidia-* packages), then 3;
3. on Linux, when PyTorch's CPU wheel index answers: `pip install torch==V --index-url <CPU index>`;
4. otherwise (macOS, Windows, or the CPU index unreachable): PyPI, but only after a dry run shows that pip
   would not pull any nvidia-* package (on macOS and Windows PyPI's wheel is the CPU build; on some
   machines, like this project's CI, `torch==V` from the configured indexes is the CPU build from local
   disk). If it would, the script refuses and says what to do, before downloading anything large.
After installing, the build is checked again (torch.version.cuda must be None).
Standard library only: it runs before anything else is installed.
"""

import argparse
import json
import platform
import re
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"


def pinned_version(requirements=REQUIREMENTS):
    for line in requirements.read_text().splitlines():
        if match := re.fullmatch(r"torch==([\w.]+)(\+cpu)?", line.split("#")[0].strip()):
            return match[1]
    raise SystemExit(f"{requirements} has no 'torch==<version>' line")


def installed():
    """(version, cuda) of the torch this Python imports, or None when there is none."""
    code = "import torch, json; print(json.dumps([torch.__version__, torch.version.cuda]))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if result.returncode != 0:
        return None
    version, cuda = json.loads(result.stdout.strip().splitlines()[-1])
    return version, cuda


def pip(*args, check=True):
    command = [sys.executable, "-m", "pip", *args]
    return subprocess.run(command, check=check)


def reachable(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return True
    except OSError:
        return False


def would_pull_cuda(requirement):
    """The nvidia-* packages the wheel that `pip install requirement` would take depends on.

    A dry run of the wheel alone (``--no-deps``): pip reads its metadata (PyPI serves it apart from the
    wheel), so nothing large is downloaded, and its Requires-Dist names the CUDA libraries if it has any.
    """
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.json"
        pip("install", "--quiet", "--dry-run", "--no-deps", "--ignore-installed", "--report", str(report), requirement)
        items = json.loads(report.read_text())["install"]
    requires = [r for item in items for r in item["metadata"].get("requires_dist", [])]
    return sorted({re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0] for r in requires if r.lower().startswith("nvidia")})


def remove_cuda_build():
    listed = subprocess.run([sys.executable, "-m", "pip", "list", "--format=json"], capture_output=True, text=True)
    nvidia = [p["name"] for p in json.loads(listed.stdout or "[]") if p["name"].lower().startswith("nvidia")]
    print(f"install_torch: removing the CUDA build of torch and {len(nvidia)} nvidia-* packages", flush=True)
    pip("uninstall", "--yes", "--quiet", "torch", *nvidia)


def install(version, index, also=()):
    """Install torch==version as a CPU build (and ``also``, pip arguments); return where it came from."""
    requirement = f"torch=={version}"
    if index and platform.system() == "Linux":
        if reachable(f"{index.rstrip('/')}/torch/"):
            print(f"install_torch: {requirement} from PyTorch's CPU index ({index})", flush=True)
            pip("install", "--quiet", requirement, "--index-url", index)
            if also:
                pip("install", "--quiet", *also)
            return f"from PyTorch's CPU index {index}"
        print(
            f"install_torch: PyTorch's CPU index ({index}) is not reachable; trying the configured indexes", flush=True
        )
    nvidia = would_pull_cuda(requirement)
    if nvidia:
        raise SystemExit(
            f"install_torch: REFUSED: here `pip install {requirement}` would be the CUDA build with "
            f"{len(nvidia)} nvidia-* packages ({', '.join(nvidia[:3])}, ...), several GB.\n"
            f"  Make PyTorch's CPU index reachable ({CPU_INDEX}), or pass another CPU index:\n"
            f"    make lab TORCH_INDEX=<url>\n"
            f"  or install a CPU wheel of torch {version} into .venv yourself, then run make again."
        )
    print(f"install_torch: {requirement} from the configured indexes (a dry run shows no nvidia-* package)", flush=True)
    pip("install", "--quiet", requirement, *also)
    return "from the configured indexes (PyPI or local disk)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", default=CPU_INDEX, help="PyTorch's CPU wheel index ('' to use only pip's indexes)")
    parser.add_argument("--check", action="store_true", help="only check the installed build")
    parser.add_argument("also", nargs=argparse.REMAINDER, help="after --: more pip install arguments")
    args = parser.parse_args()
    also = args.also[1:] if args.also[:1] == ["--"] else args.also
    version = pinned_version()
    found = installed()
    if args.check:
        if found is None or found[1] is not None:
            raise SystemExit(f"install_torch: expected a CPU build of torch {version}, found {found}; run make again")
        print(f"install_torch: torch {found[0]} (CPU build) is installed")
        return
    source = "already installed"
    if found is not None and found[1] is not None:
        print(f"install_torch: torch {found[0]} is a CUDA build (CUDA {found[1]}): repairing", flush=True)
        remove_cuda_build()
        found = None
    if found is None or found[0].split("+")[0] != version:
        source = install(version, args.index, also)
        found = installed()
    elif also:
        pip("install", "--quiet", *also)
    if found is None or found[1] is not None:
        raise SystemExit(f"install_torch: torch {version} did not install as a CPU build (found {found})")
    print(f"install_torch: torch {found[0]}, the CPU build, {source}")


if __name__ == "__main__":
    main()

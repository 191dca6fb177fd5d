"""tools/install_torch.py: the pin it reads, the CUDA detection from pip's dry-run report, the refusal."""

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("install_torch", ROOT / "tools" / "install_torch.py")
install_torch = importlib.util.module_from_spec(spec)
spec.loader.exec_module(install_torch)

CPU_WHEEL = ["filelock", "typing-extensions>=4.10.0", "sympy>=1.13.3", 'optree>=0.13.0; extra == "optree"']
CUDA_WHEEL = CPU_WHEEL + [
    'nvidia-cublas-cu12==12.8.4.1; platform_system == "Linux"',
    'nvidia-cudnn-cu12==9.10.2.21; platform_system == "Linux"',
    "triton==3.5.0; platform_system == 'Linux'",
]


def fake_pip(requires):
    """A stand-in for install_torch.pip that writes a dry-run report for a torch wheel with ``requires``."""

    def pip(*args, check=True):
        report = Path(args[args.index("--report") + 1])
        item = {"metadata": {"name": "torch", "version": "2.13.0", "requires_dist": requires}}
        report.write_text(json.dumps({"install": [item]}))

    return pip


def test_the_pin_is_read_from_requirements(tmp_path):
    assert install_torch.pinned_version() == "2.13.0"
    path = tmp_path / "requirements.txt"
    path.write_text("numpy==2.4.6\ntorch==2.13.0+cpu  # CPU\n")
    assert install_torch.pinned_version(path) == "2.13.0"
    path.write_text("numpy==2.4.6\n")
    with pytest.raises(SystemExit, match="torch=="):
        install_torch.pinned_version(path)


def test_a_cuda_wheel_is_recognised_from_its_metadata(monkeypatch):
    monkeypatch.setattr(install_torch, "pip", fake_pip(CPU_WHEEL))
    assert install_torch.would_pull_cuda("torch==2.13.0") == []
    monkeypatch.setattr(install_torch, "pip", fake_pip(CUDA_WHEEL))
    assert install_torch.would_pull_cuda("torch==2.13.0") == ["nvidia-cublas-cu12", "nvidia-cudnn-cu12"]


def test_a_cuda_wheel_is_refused_before_installing(monkeypatch):
    calls = []

    def pip(*args, check=True):
        calls.append(args)
        fake_pip(CUDA_WHEEL)(*args)

    monkeypatch.setattr(install_torch, "pip", pip)
    monkeypatch.setattr(install_torch, "reachable", lambda url, timeout=10: False)
    with pytest.raises(SystemExit, match="REFUSED.*CUDA build"):
        install_torch.install("2.13.0", install_torch.CPU_INDEX)
    assert all("--dry-run" in call for call in calls), "nothing but the dry run may run"


def test_the_cpu_index_is_used_on_linux_when_it_answers(monkeypatch):
    calls = []
    monkeypatch.setattr(install_torch, "pip", lambda *args, check=True: calls.append(args))
    monkeypatch.setattr(install_torch, "reachable", lambda url, timeout=10: True)
    monkeypatch.setattr(install_torch.platform, "system", lambda: "Linux")
    assert "CPU index" in install_torch.install("2.13.0", install_torch.CPU_INDEX)
    assert calls == [("install", "--quiet", "torch==2.13.0", "--index-url", install_torch.CPU_INDEX)]

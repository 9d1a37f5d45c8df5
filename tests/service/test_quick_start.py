"""The README's quick start: its two commands are the ones CI and the serve test run, they install
what they should (the service without TensorFlow), and the second run skips the installs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.service.test_layering import imported_modules, worker_env

REPO_ROOT = Path(__file__).resolve().parents[2]
TENSORFLOW = ("tensorflow", "keras")


def quick_start_commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, "no ```bash block under ## Quick start"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_two_commands_the_ones_ci_and_the_serve_test_run() -> None:
    from tests.integration.test_serve import RUN_COMMAND

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert re.findall(r"^## (.+)$", readme, re.M)[0] == "Quick start"  # the README opens with it
    run, test = quick_start_commands()
    assert run == RUN_COMMAND
    ci = [line.strip() for line in (REPO_ROOT / ".ci" / "run").read_text().splitlines()
          if line.strip() and not line.lstrip().startswith("#")]
    assert ci[-1] == f"exec {test}"
    assert all(line.startswith(("set ", "cd ")) for line in ci[:-1]), ci


def make_dry_run(target: str, tmp_path: Path, stamp_age_s: float | None) -> list[str]:
    """The commands ``make -n target`` would run with a venv in ``tmp_path`` and stamps of that age."""
    venv, stamps = tmp_path / "venv", tmp_path / "stamps"
    (venv / "bin").mkdir(parents=True, exist_ok=True)
    (venv / "bin" / "python").touch()
    stamps.mkdir(exist_ok=True)
    for name in (".emotune-service", ".emotune-test"):
        stamp = stamps / name
        stamp.unlink(missing_ok=True)
        if stamp_age_s is not None:
            stamp.touch()
            pyproject = (REPO_ROOT / "pyproject.toml").stat().st_mtime
            when = pyproject + 60 if stamp_age_s == 0 else pyproject - stamp_age_s
            os.utime(stamp, (when, when))
    # Not as a sub-make of `make test`: its flags would add "Entering directory" lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    result = subprocess.run(["make", "--no-print-directory", "-n", target, f"VENV={venv}", f"STAMPS={stamps}"],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=30, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_make_run_installs_the_service_once_then_only_runs_emotune(tmp_path: Path) -> None:
    first = make_dry_run("run", tmp_path, stamp_age_s=None)
    assert any(re.search(r"pip install .*-e \.$", line) for line in first), first
    assert not any("[ml" in line or "tensorflow" in line for line in first), first
    assert first[-1].endswith("/bin/emotune ")
    again = make_dry_run("run", tmp_path, stamp_age_s=0)  # stamp newer than pyproject.toml
    assert again == [first[-1]]
    changed = make_dry_run("run", tmp_path, stamp_age_s=3600)  # pyproject.toml changed since
    assert any("pip install" in line for line in changed)


def test_make_test_installs_everything_and_runs_the_suite_as_ci() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    assert 'pip install --quiet --disable-pip-version-check -e ".[ml,dev]"' in makefile
    assert "npm ci" in makefile and "apt-get install -y -qq chromium" in makefile
    assert "CI=true $(BIN)/python -m pytest $(PYTEST_ARGS)" in makefile
    assert "$$status -eq 5" in makefile  # no tests collected is a failure
    assert ".ci/services" in makefile and os.access(REPO_ROOT / ".ci" / "services", os.X_OK)
    assert "../shared/data/fer2013" in makefile


def test_the_service_install_has_no_tensorflow() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    base = [re.split(r"[<>=\[ ;]", dep, maxsplit=1)[0].lower() for dep in project["dependencies"]]
    assert not [dep for dep in base if dep.startswith(TENSORFLOW)], base
    assert any(dep.startswith("tensorflow") for dep in project["optional-dependencies"]["ml"])


def test_the_web_and_the_emotune_command_never_import_tensorflow(tmp_path: Path) -> None:
    code = "import emotune.cli.serve, emotune.cli.children\nfrom emotune import create_app\ncreate_app()"
    modules = imported_modules(code, worker_env(tmp_path))
    assert "emotune.cli.serve" in modules
    assert not {m for m in modules if m.split(".")[0] in TENSORFLOW}


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_children_get_a_parent_death_signal() -> None:
    from emotune.cli.children import LIBC

    assert LIBC is not None, "no libc for prctl: children could outlive emotune"

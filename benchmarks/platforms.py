"""Which platforms the service's runtime dependencies install on from wheels alone.

``python -m benchmarks.platforms`` asks PyPI (through pip, nothing installed) to resolve every
dependency in pyproject.toml's ``[project] dependencies``, with their own dependencies, for CPython
3.11 on each platform of ``PLATFORMS``, accepting wheels only (``--only-binary=:all:``): a package
that would have to be built from source there counts as missing. It writes the wheel chosen for each
package per platform to ``benchmarks/platform_wheels.json``, which tests/test_platforms.py reads
offline (a dependency added to pyproject.toml without a fresh lock fails that test).
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Final

REPO: Final = Path(__file__).resolve().parents[1]
LOCK: Final = REPO / "benchmarks" / "platform_wheels.json"
PYTHON_VERSION: Final = "3.11"
# pip takes platform tags literally: each platform lists the tags a current machine of its kind
# accepts (glibc 2.17 to 2.39 on Linux, macOS 11 to 15 on Apple silicon).
_GLIBC: Final = (17, 24, 26, 27, 28, 31, 34, 35, 39)
PLATFORMS: Final[dict[str, list[str]]] = {
    "linux-x86_64": [f"manylinux_2_{v}_x86_64" for v in _GLIBC] + ["manylinux2014_x86_64", "linux_x86_64"],
    "linux-aarch64": [f"manylinux_2_{v}_aarch64" for v in _GLIBC] + ["manylinux2014_aarch64", "linux_aarch64"],
    "macos-arm64": [f"macosx_{v}_0_{arch}" for v in (11, 12, 13, 14, 15) for arch in ("arm64", "universal2")],
    "windows-amd64": ["win_amd64"],
}


def dependency_names(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """The normalised names of the runtime dependencies (extras and versions stripped)."""
    requirements = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return [normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0]) for requirement in requirements]


def requirements(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """The runtime requirements as written, extras included (their packages need wheels too)."""
    return list(tomllib.loads(pyproject.read_text())["project"]["dependencies"])


def normalise(name: str) -> str:
    """A distribution name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def resolve(wanted: list[str], tags: list[str]) -> tuple[dict[str, str], str]:
    """(package -> wheel file name, pip's error or "") for ``wanted`` and their dependencies."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--ignore-installed",
                   "--only-binary=:all:", "--python-version", PYTHON_VERSION, "--implementation", "cp",
                   "--target", str(Path(scratch) / "target"), "--report", str(report)]
        for tag in tags:
            command += ["--platform", tag]
        done = subprocess.run(command + wanted, capture_output=True, text=True)
        if done.returncode:
            return {}, done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "pip failed"
        chosen = json.loads(report.read_text())["install"]
    return {normalise(item["metadata"]["name"]): item["download_info"]["url"].rsplit("/", 1)[-1]
            for item in chosen}, ""


def main() -> None:
    """Resolve every platform and write the lock; exit 1 when a platform lacks a wheel."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=LOCK)
    args = parser.parse_args()
    wanted = requirements()
    lock: dict[str, object] = {"python": PYTHON_VERSION, "dependencies": sorted(dependency_names()),
                               "platforms": {}, "missing": {}}
    for platform, tags in PLATFORMS.items():
        wheels, error = resolve(wanted, tags)
        missing: dict[str, str] = {}
        if error:
            # One requirement at a time, to name the ones without a wheel for this platform.
            for requirement in wanted:
                found, why = resolve([requirement], tags)
                if why:
                    missing[dependency_names_of(requirement)] = why
                wheels |= found
        lock["platforms"][platform] = dict(sorted(wheels.items()))  # type: ignore[index]
        if missing:
            lock["missing"][platform] = missing  # type: ignore[index]
        print(f"{platform}: {len(wheels)} wheels" + (f", missing {sorted(missing)}" if missing else ""))
    args.output.write_text(json.dumps(lock, indent=1) + "\n")
    print(f"wrote {args.output}")
    raise SystemExit(1 if lock["missing"] else 0)


def dependency_names_of(requirement: str) -> str:
    """The normalised name of one requirement string."""
    return normalise(re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0])


if __name__ == "__main__":
    main()

"""A missing browser, server or dataset skips a test locally but fails it under CI, naming it."""

from __future__ import annotations

import pytest

from tests.prerequisites import REPO_ROOT

pytest_plugins = ["pytester"]

# What is made missing (environment), a test that needs it, and the words the failure must name.
CASES: dict[str, tuple[dict[str, str], str, str]] = {
    "data": ({"EMOTUNE_TEST_DATA_DIR": "/nonexistent/shared-data"}, "face_jpeg", "FER2013"),
    "browser": ({"EMOTUNE_CHROMIUM": "/nonexistent/chromium"}, "chromium_path", "Chromium"),
    "redis": ({"EMOTUNE_TEST_REDIS_URL": "redis://127.0.0.1:1/0"}, "redis_url", "Redis"),
    "postgres": ({"EMOTUNE_TEST_PG_ADMIN_URL": "postgresql://postgres@127.0.0.1:1/test"}, "pg_url", "PostgreSQL"),
}


@pytest.mark.parametrize("ci", [True, False], ids=["CI", "local"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_missing_prerequisite_fails_under_ci_and_skips_locally(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, case: str, ci: bool
) -> None:
    env, fixture, name = CASES[case]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PYTHONPATH", str(REPO_ROOT))
    if ci:
        monkeypatch.setenv("CI", "true")
    else:
        monkeypatch.delenv("CI", raising=False)
    pytester.makeconftest('pytest_plugins = ["tests.conftest", "tests.browser.conftest"]')
    pytester.makepyfile(f"def test_needs_it({fixture}):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    output = result.stdout.str()
    assert name in output and "missing prerequisite" in output
    if ci:
        result.assert_outcomes(errors=1)
        assert result.ret != 0
    else:
        result.assert_outcomes(skipped=1)

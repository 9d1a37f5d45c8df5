"""The catalogue refresh's calls to Spotify as metrics, by outcome, from the refresh task's signals.

Connected where the task runs (the worker's entry point imports this module); the task itself
stays free of metrics. One count per run of the task: a retry (rate limited, Spotify unreachable)
counts as its own run.
"""

from __future__ import annotations

from typing import Any

from celery.signals import task_failure, task_retry, task_success

from emotune.metrics import SPOTIFY_CALLS
from emotune.tasks.catalogue import refresh_playlists
from recommender.errors import QuotaExceeded, RateLimited, SpotifyUnavailable

REFRESH = "catalogue_refresh"


def error_names(exception: BaseException) -> set[str]:
    """The class names an error is an instance of."""
    return {cls.__name__ for cls in type(exception).__mro__}


def refresh_outcome(errors: set[str] | None = None, result: Any = None) -> str:
    """How a catalogue refresh's calls to Spotify ended, from its error's class names or its result."""
    if errors:
        if errors & {RateLimited.__name__, QuotaExceeded.__name__}:
            return "rate_limited"
        return "unavailable" if SpotifyUnavailable.__name__ in errors else "failed"
    if isinstance(result, dict) and result.get("refreshed"):
        return "ok"
    return "quota_exceeded" if isinstance(result, dict) and result.get("resumes_at") else "failed"


def _is_refresh(sender: Any) -> bool:
    # By name: the task object a signal carries is not the shared_task proxy imported here.
    return getattr(sender, "name", None) == refresh_playlists.name


@task_success.connect
def _refresh_succeeded(sender: Any = None, result: Any = None, **_: Any) -> None:
    if not _is_refresh(sender):
        return
    SPOTIFY_CALLS.labels(REFRESH, refresh_outcome(result=result)).inc()


@task_retry.connect
def _refresh_retried(sender: Any = None, reason: Any = None, **_: Any) -> None:
    if not _is_refresh(sender):
        return
    # ``reason`` is Celery's Retry. Its ``exc`` may be a pickleable base class of the real error
    # (RateLimited arrives as SpotifyError), so the real class is read from ``excs``, its repr.
    cause = getattr(reason, "exc", None)
    errors = error_names(cause) if isinstance(cause, BaseException) else set()
    errors.add(str(getattr(reason, "excs", None) or "").split("(", 1)[0] or "Retry")
    SPOTIFY_CALLS.labels(REFRESH, refresh_outcome(errors)).inc()


@task_failure.connect
def _refresh_failed(sender: Any = None, exception: BaseException | None = None, **_: Any) -> None:
    if not _is_refresh(sender):
        return
    errors = error_names(exception) if exception is not None else {"Exception"}
    SPOTIFY_CALLS.labels(REFRESH, refresh_outcome(errors)).inc()

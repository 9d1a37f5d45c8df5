"""JSON errors: ``{"error": {"code", "message"}}`` for every API failure, 4xx ours to explain.

User errors get a code and a message that says what to do; unexpected errors are logged with
context and answered 500 without details.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, TooManyRequests

log = logging.getLogger(__name__)

# Messages for HTTP errors that Flask/werkzeug raise before our views run.
HTTP_MESSAGES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood; check its format and try again."),
    404: ("not_found", "Nothing here: check the address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    408: ("request_timeout", "The request stopped arriving before it was complete: check the connection and "
          "send it again."),
    414: ("uri_too_long", "The address is too long: check the link, or start again from the home page."),
    429: ("rate_limited", "Too many photos in a short time: wait a minute and try again."),
    431: ("headers_too_large", "The request's headers are too large: clear this site's cookies and try again."),
    500: ("internal_error", "Something went wrong on our side; please try again in a moment."),
}


class ApiError(Exception):
    """A user-facing API error: HTTP status, stable code and a message saying what to do."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status: int, code: str, message: str) -> tuple[Response, int]:
    """The JSON body and status every API error uses."""
    return jsonify(error={"code": code, "message": message}), status


def too_large_response(app: Flask) -> tuple[Response, int]:
    """413 for an upload over MAX_CONTENT_LENGTH, or for a form over Werkzeug's part and field limits.

    Werkzeug raises the same exception for all three; a body within the size limit can only have
    tripped the form's, and a chunked body (no length) may have tripped either.
    """
    limit = app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"The upload is larger than {limit / (1024 * 1024):.0f} MB"
    form = (f"the form has more than {app.config['MAX_FORM_PARTS']} parts or a text field over "
            f"{app.config['MAX_FORM_MEMORY_SIZE'] // 1000} KB")
    length = request.content_length
    if length is not None and limit and length > limit:
        return error_response(413, "file_too_large", f"{size}: choose a smaller photo or take a new one.")
    if length is not None:
        return error_response(413, "form_too_large", f"The upload's {form[4:]}: send the photo in the field "
                              "'image' and, optionally, 'strategy', and nothing else.")
    return error_response(413, "file_too_large", f"{size}, or {form}: send one photo of at most "
                          f"{limit / (1024 * 1024):.0f} MB in the field 'image' (and 'strategy', optionally).")


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/spotify/")) or request.path in {"/healthz", "/readyz", "/metrics"} or (
        request.accept_mimetypes.best == "application/json"
    )


def register_error_handlers(app: Flask) -> None:
    """Install JSON handlers for API errors, CSRF failures, oversized uploads and HTTP errors."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):  # type: ignore[no-untyped-def]
        response, status = error_response(exc.status, exc.code, exc.message)
        response.headers.update(exc.headers)
        return response, status

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        return error_response(
            400,
            "csrf_failed",
            f"The security token was missing or wrong ({exc.description}). Reload the page and "
            "try again; API clients: GET /api/csrf and send the token in the X-CSRFToken header "
            "with the same cookie.",
        )

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
        return too_large_response(app)

    @app.errorhandler(TooManyRequests)
    def _rate_limited(exc: TooManyRequests):  # type: ignore[no-untyped-def]
        # Flask-Limiter adds the exact wait as Retry-After (RATELIMIT_HEADERS_ENABLED).
        code, message = HTTP_MESSAGES[429]
        return error_response(429, code, message)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if not _wants_json():
            return exc
        code, message = HTTP_MESSAGES.get(
            exc.code or 500, ("http_error", exc.description or "The request failed.")
        )
        return error_response(exc.code or 500, code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        # Never log the request body: it may hold a selfie.
        log.exception("Unhandled error on %s %s", request.method, request.path)
        code, message = HTTP_MESSAGES[500]
        return error_response(500, code, message)

"""A local HTTP server that answers like Spotify's accounts service and Web API (2026 rules).

It serves the token endpoint (client credentials, authorization code with PKCE, refresh),
``/authorize`` (auto-approves, like a user pressing "Agree"), search (at most 10 items a page,
paged, with spammy, empty, off-topic and null items mixed in), ``/me``, ``/me/playlists`` and
``/playlists/{id}/items`` (only for playlists the user owns), and the keyless ``/oembed`` (title and
thumbnail of a live playlist; 404 for one in ``removed_playlists``). Removed endpoints answer 404 and are
logged. ``script(prefix, ...)`` queues canned failures: 429 with Retry-After, 500, a slow answer,
a malformed body, an empty result, ``QUOTA_EXCEEDED``, each 403 cause, a connection closed without
an answer (Spotify unreachable), search items without a track count. ``expire_user_tokens()`` makes
user tokens answer 401.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

REMOVED_ENDPOINTS = (
    re.compile(r"/v1/recommendations"),
    re.compile(r"/v1/audio-features"),
    re.compile(r"/v1/audio-analysis"),
    re.compile(r"/v1/artists/[^/]+/related-artists"),
    re.compile(r"/v1/browse/featured-playlists"),
    re.compile(r"/v1/browse/categories/[^/]+/playlists"),
)
MAX_SEARCH_LIMIT = 10


@dataclass
class Scripted:
    """A canned answer for the next request whose path starts with a prefix."""

    status: int = 200
    json_body: Any = None
    raw_body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    passthrough: bool = False  # after the delay, answer as usual
    drop: bool = False  # close the connection without answering

    @classmethod
    def rate_limited(cls, retry_after: int) -> Scripted:
        return cls(429, {"error": {"status": 429, "message": "API rate limit exceeded"}},
                   headers={"Retry-After": str(retry_after)})

    @classmethod
    def server_error(cls, status: int = 500) -> Scripted:
        return cls(status, {"error": {"status": status, "message": "Server error"}})

    @classmethod
    def slow(cls, delay_s: float) -> Scripted:
        return cls(delay_s=delay_s, passthrough=True)

    @classmethod
    def malformed(cls) -> Scripted:
        return cls(200, raw_body=b'{"playlists": {"items": [ {"id": ')

    @classmethod
    def quota_exceeded(cls, retry_after: int = 86400) -> Scripted:
        """The 2025+ quota answer: 429 with ``reason: QUOTA_EXCEEDED`` and a Retry-After of hours."""
        return cls(429, {"error": {"status": 429, "message": "Quota exceeded",
                                   "reason": "QUOTA_EXCEEDED"}},
                   headers={"Retry-After": str(retry_after)})

    @classmethod
    def forbidden(cls, cause: str) -> Scripted:
        """A 403 worded as Spotify words each cause: 'premium', 'allowlist' or 'endpoint'."""
        messages = {
            "premium": "Active premium subscription required for the owner of the app.",
            "allowlist": "Check settings on developer.spotify.com/dashboard, the user may not be registered.",
            "endpoint": "Forbidden: this endpoint is not available to apps in development mode.",
        }
        return cls(403, {"error": {"status": 403, "message": messages[cause]}})

    @classmethod
    def search_without_counts(cls, n: int = 5) -> Scripted:
        """A search page whose items carry no track count (Spotify omits it for some playlists)."""
        items = [{"id": _sid("nocount", i), "name": f"Calm Piano Evening {i}",
                  "description": "Gentle calm piano for a slow evening.",
                  "owner": {"id": "pianist", "display_name": "Pianist"},
                  "external_urls": {"spotify": f"https://open.spotify.com/playlist/{_sid('nocount', i)}"},
                  "images": [], "public": True, "type": "playlist"} for i in range(n)]
        return cls(200, {"playlists": {"href": "", "items": items, "limit": 10, "next": None,
                                       "offset": 0, "previous": None, "total": n}})

    @classmethod
    def unreachable(cls) -> Scripted:
        """The connection closes without an answer, as when Spotify cannot be reached."""
        return cls(drop=True)

    @classmethod
    def empty_search(cls) -> Scripted:
        return cls(200, {"playlists": {"href": "", "items": [], "limit": 10, "next": None,
                                       "offset": 0, "previous": None, "total": 0}})


@dataclass
class Recorded:
    """One request the stub received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


def _sid(*parts: Any) -> str:
    """A stable 22-character base62-looking id (Spotify ids are 22 alphanumerics)."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:22]


class SpotifyStub:
    """Start with ``with SpotifyStub() as stub:``; ``stub.config()`` gives the SPOTIFY_* keys."""

    def __init__(self, client_id: str = "stub-client", client_secret: str = "stub-secret",
                 results_per_query: int = 25, user_token_ttl: int = 3600) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.results_per_query = results_per_query
        self.user_token_ttl = user_token_ttl
        self.requests: list[Recorded] = []
        self.removed_calls: list[str] = []
        self._scripts: dict[str, deque[Scripted]] = {}
        self._lock = threading.Lock()
        self.app_tokens: set[str] = set()
        self.user_tokens: dict[str, str] = {}  # access token -> user id
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> user id
        self.codes: dict[str, dict[str, str]] = {}
        self.playlists: dict[str, dict[str, Any]] = {}
        self.deny_authorization = False
        self.removed_playlists: set[str] = set()  # oEmbed answers 404 for these ids
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def config(self, redirect_uri: str = "http://127.0.0.1:5000/spotify/callback") -> dict[str, Any]:
        """Flask config keys pointing the app at this stub."""
        return {
            "SPOTIFY_CLIENT_ID": self.client_id,
            "SPOTIFY_CLIENT_SECRET": self.client_secret,
            "SPOTIFY_REDIRECT_URI": redirect_uri,
            "SPOTIFY_API_BASE": f"{self.url}/v1",
            "SPOTIFY_ACCOUNTS_BASE": self.url,
            "SPOTIFY_OEMBED_BASE": self.url,
            "SPOTIFY_TIMEOUT_S": 2,
        }

    def start(self) -> SpotifyStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> SpotifyStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting -------------------------------------------------------------------------
    def script(self, path_prefix: str, *answers: Scripted) -> None:
        """Queue answers for the next requests whose path starts with ``path_prefix``."""
        with self._lock:
            self._scripts.setdefault(path_prefix, deque()).extend(answers)

    def expire_user_tokens(self) -> None:
        """Every user access token now answers 401 'The access token expired'."""
        with self._lock:
            self.user_tokens.clear()

    def revoke_refresh_tokens(self) -> None:
        """Refreshing now fails with invalid_grant, as when a user removes the app."""
        with self._lock:
            self.refresh_tokens.clear()

    def paths(self, method: str | None = None) -> list[str]:
        return [r.path for r in self.requests if method is None or r.method == method]

    def _next_script(self, path: str) -> Scripted | None:
        with self._lock:
            for prefix, queue in self._scripts.items():
                if path.startswith(prefix) and queue:
                    return queue.popleft()
        return None

    # -- canned data -----------------------------------------------------------------------
    def search_playlists(self, q: str, offset: int, limit: int) -> dict[str, Any]:
        total = self.results_per_query
        items: list[Any] = []
        title = q.title()
        for i in range(offset, min(offset + limit, total)):
            sid = _sid("playlist", q, i)
            item: Any = {
                "id": sid, "name": f"{title} Mix {i}", "description": f"Handpicked {q} songs, vol. {i}.",
                "owner": {"id": "spotify" if i % 4 == 0 else f"user{i}",
                          "display_name": "Spotify" if i % 4 == 0 else f"Listener {i}"},
                "external_urls": {"spotify": f"https://open.spotify.com/playlist/{sid}"},
                "images": [{"url": f"https://i.scdn.co/image/{sid}", "height": 300, "width": 300}],
                "items": {"href": "", "total": 30 + i}, "public": True, "type": "playlist",
                "uri": f"spotify:playlist:{sid}",
            }
            if i % 7 == 3:
                item["name"] = f"{title} follow for follow promo"
            elif i % 7 == 5:
                item["items"]["total"] = 0
            elif i % 9 == 8:
                item["name"], item["description"] = "Bedtime Lullabies", "Soft sounds for babies"
            elif i % 11 == 4:
                item = None  # Spotify does return null entries in search results
            items.append(item)
        nxt = None
        if offset + limit < total:
            nxt = f"{self.url}/v1/search?{urlencode({'q': q, 'type': 'playlist', 'offset': offset + limit, 'limit': limit})}"
        return {"playlists": {"href": "", "items": items, "limit": limit, "next": nxt,
                              "offset": offset, "previous": None, "total": total}}

    def search_tracks(self, q: str, offset: int, limit: int) -> dict[str, Any]:
        items = [{"id": _sid("track", q, i), "name": f"{q} song {i}", "type": "track",
                  "uri": f"spotify:track:{_sid('track', q, i)}"} for i in range(offset, offset + limit)]
        return {"tracks": {"href": "", "items": items, "limit": limit, "next": None,
                           "offset": offset, "previous": None, "total": 50}}

    # -- HTTP ------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                stub._handle(self, "GET")

            def do_POST(self) -> None:
                stub._handle(self, "POST")

            def do_PUT(self) -> None:
                stub._handle(self, "PUT")

            def do_DELETE(self) -> None:
                stub._handle(self, "DELETE")

        return Handler

    def _send(self, h: BaseHTTPRequestHandler, status: int, body: Any = None, raw: bytes | None = None,
              headers: dict[str, str] | None = None) -> None:
        payload = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(payload)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout tests)

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        query = parse_qs(parts.query)
        self.requests.append(Recorded(method, parts.path, query, dict(h.headers), body))
        if any(p.match(parts.path) for p in REMOVED_ENDPOINTS):
            self.removed_calls.append(parts.path)
            return self._send(h, 404, {"error": {"status": 404, "message": "Service has been removed"}})
        scripted = self._next_script(parts.path)
        if scripted is not None:
            if scripted.delay_s:
                time.sleep(scripted.delay_s)
            if scripted.drop:
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)
                return None
            if not scripted.passthrough:
                return self._send(h, scripted.status, scripted.json_body, scripted.raw_body, scripted.headers)
        try:
            status, answer, headers = self._route(method, parts.path, query, h.headers, body)
        except Exception as exc:  # a stub bug should show up as a 500 the test can see
            status, answer, headers = 500, {"error": {"status": 500, "message": repr(exc)}}, {}
        self._send(h, status, answer, headers=headers)

    def _route(self, method: str, path: str, query: dict[str, list[str]], headers: Any,
               body: bytes) -> tuple[int, Any, dict[str, str]]:
        path = path.rstrip("/") or "/"  # Spotify ignores a trailing slash (spotipy sends "me/")
        if path == "/authorize" and method == "GET":
            return self._authorize(query)
        if path == "/api/token" and method == "POST":
            return self._token(headers, parse_qs(body.decode()))
        if path == "/oembed" and method == "GET":
            return self._oembed({k: v[0] for k, v in query.items()})
        if not path.startswith("/v1/"):
            return 404, {"error": {"status": 404, "message": "Not found"}}, {}
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        user = self.user_tokens.get(token)
        if user is None and token not in self.app_tokens:
            return 401, {"error": {"status": 401, "message": "The access token expired"}}, {}
        one = {k: v[0] for k, v in query.items()}
        if path == "/v1/search" and method == "GET":
            limit = int(one.get("limit", 10))
            offset = int(one.get("offset", 0))
            if not 1 <= limit <= MAX_SEARCH_LIMIT:
                return 400, {"error": {"status": 400, "message": "Invalid limit"}}, {}
            if one.get("type") == "playlist":
                return 200, self.search_playlists(one.get("q", ""), offset, limit), {}
            if one.get("type") == "track":
                return 200, self.search_tracks(one.get("q", ""), offset, limit), {}
            return 400, {"error": {"status": 400, "message": "Unsupported type"}}, {}
        if user is None:
            return 401, {"error": {"status": 401, "message": "This request requires user authentication"}}, {}
        if path == "/v1/me" and method == "GET":
            return 200, {"id": user, "display_name": f"Stub User {user}", "type": "user"}, {}
        if path == "/v1/me/playlists" and method == "POST":
            data = json.loads(body or b"{}")
            if not data.get("name"):
                return 400, {"error": {"status": 400, "message": "Missing name"}}, {}
            pid = _sid("created", user, len(self.playlists))
            self.playlists[pid] = {"id": pid, "name": data["name"], "description": data.get("description", ""),
                                   "public": data.get("public", True), "owner": user, "items": []}
            return 201, {"id": pid, "name": data["name"], "owner": {"id": user},
                         "external_urls": {"spotify": f"https://open.spotify.com/playlist/{pid}"}}, {}
        if path == "/v1/me/playlists" and method == "GET":
            mine = [p for p in self.playlists.values() if p["owner"] == user]
            return 200, {"items": [{"id": p["id"], "name": p["name"]} for p in mine], "total": len(mine)}, {}
        match = re.fullmatch(r"/v1/playlists/([^/]+)/items", path)
        if match:
            playlist = self.playlists.get(match.group(1))
            if playlist is None or playlist["owner"] != user:
                return 403, {"error": {"status": 403, "message": "Forbidden"}}, {}
            if method == "POST":
                data = json.loads(body or b"[]")
                uris = data if isinstance(data, list) else data.get("uris", [])
                playlist["items"].extend(uris)
                return 201, {"snapshot_id": _sid("snap", match.group(1), len(playlist["items"]))}, {}
            if method == "GET":
                return 200, {"items": [{"item": {"uri": u}} for u in playlist["items"]],
                             "total": len(playlist["items"])}, {}
        return 404, {"error": {"status": 404, "message": "Not found"}}, {}

    def _oembed(self, one: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        """Spotify's keyless oEmbed: title and thumbnail of a public playlist, 404 once it is gone."""
        match = re.fullmatch(r"https://open\.spotify\.com/playlist/([A-Za-z0-9]{22})", one.get("url", ""))
        if match is None:
            return 400, {"error": "invalid url"}, {}
        pid = match.group(1)
        if pid in self.removed_playlists:
            return 404, {"error": "not found"}, {}
        return 200, {
            "html": f'<iframe src="https://open.spotify.com/embed/playlist/{pid}"></iframe>',
            "width": 456, "height": 352, "version": "1.0", "provider_name": "Spotify",
            "provider_url": "https://spotify.com", "type": "rich",
            "title": f"Stub Playlist {pid[-4:]}",
            "thumbnail_url": f"https://image-cdn-ak.spotifycdn.com/image/ab67706c0000da84{pid[:8]}",
            "thumbnail_width": 300, "thumbnail_height": 300,
            "iframe_url": f"https://open.spotify.com/embed/playlist/{pid}",
        }, {}

    def _authorize(self, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        one = {k: v[0] for k, v in query.items()}
        if one.get("client_id") != self.client_id or one.get("code_challenge_method") != "S256":
            return 400, {"error": "invalid_request"}, {}
        redirect = one["redirect_uri"]
        state = {"state": one["state"]} if "state" in one else {}
        if self.deny_authorization:
            return 302, None, {"Location": f"{redirect}?{urlencode({'error': 'access_denied', **state})}"}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"challenge": one["code_challenge"], "redirect_uri": redirect,
                            "scope": one.get("scope", ""), "user": "stubuser"}
        return 302, None, {"Location": f"{redirect}?{urlencode({'code': code, **state})}"}

    def _issue_user_token(self, user: str, scope: str, refresh: str | None = None) -> dict[str, Any]:
        access = secrets.token_urlsafe(24)
        refresh = refresh or secrets.token_urlsafe(24)
        self.user_tokens[access] = user
        self.refresh_tokens[refresh] = user
        return {"access_token": access, "token_type": "Bearer", "scope": scope,
                "expires_in": self.user_token_ttl, "refresh_token": refresh}

    def _token(self, headers: Any, form: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        one = {k: v[0] for k, v in form.items()}
        grant = one.get("grant_type")
        if grant == "client_credentials":
            expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            if headers.get("Authorization") != f"Basic {expected}":
                return 400, {"error": "invalid_client", "error_description": "Invalid client"}, {}
            token = secrets.token_urlsafe(24)
            self.app_tokens.add(token)
            return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}, {}
        if grant == "authorization_code":
            grant_info = self.codes.pop(one.get("code", ""), None)
            verifier = one.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
            if (grant_info is None or digest != grant_info["challenge"]
                    or one.get("redirect_uri") != grant_info["redirect_uri"]
                    or one.get("client_id") != self.client_id):
                return 400, {"error": "invalid_grant", "error_description": "Invalid authorization code"}, {}
            return 200, self._issue_user_token(grant_info["user"], grant_info["scope"]), {}
        if grant == "refresh_token":
            user = self.refresh_tokens.get(one.get("refresh_token", ""))
            if user is None:
                return 400, {"error": "invalid_grant", "error_description": "Refresh token revoked"}, {}
            info = self._issue_user_token(user, "playlist-modify-private playlist-modify-public",
                                          refresh=one["refresh_token"])
            return 200, info, {}
        return 400, {"error": "unsupported_grant_type"}, {}

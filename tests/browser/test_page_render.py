"""The page as the server renders it (no browser): consent first, CSRF token, assets, headers."""

from __future__ import annotations

import re
from pathlib import Path

from flask.testing import FlaskClient

from emotune.security import content_security_policy

STATIC = Path(__file__).resolve().parents[2] / "emotune" / "pages" / "static"


def _tag(html: str, element_id: str) -> str:
    match = re.search(rf'<[a-z]+ id="{element_id}"[^>]*>', html)
    assert match, element_id
    return match.group(0)


def _hidden(html: str, element_id: str) -> bool:
    return re.search(r"\bhidden\b", _tag(html, element_id)) is not None


def _token(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', html)
    assert match, "the page must carry its CSRF token in <meta name=\"csrf-token\">"
    return match.group(1)


def test_first_visit_shows_the_notice_and_hides_capture(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assert not _hidden(html, "consent")
    assert _hidden(html, "app")
    for words in ("What is analysed", "Your photo is not stored", "It is an estimate"):
        assert words in html


def test_the_pages_csrf_token_lets_it_agree_and_the_agreement_is_remembered(client: FlaskClient) -> None:
    token = _token(client.get("/").get_data(as_text=True))
    assert client.post("/api/consent").status_code == 400  # without the token: refused
    assert client.post("/api/consent", headers={"X-CSRFToken": token}).status_code == 204
    html = client.get("/").get_data(as_text=True)
    assert _hidden(html, "consent")
    assert not _hidden(html, "app")


def test_controls_for_every_feature_are_on_the_page(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    # Two paths on phones: the camera app (capture) and the gallery (no capture attribute).
    assert re.search(r'<input type="file" id="selfie-input"[^>]* capture="user"', html)
    choose = re.search(r'<input type="file" id="photo-input"[^>]*>', html).group(0)
    assert 'accept="image/*"' in choose and "capture" not in choose
    assert 'role="status"' in html and 'role="alert"' in html
    for value in ("match", "lift", "calm"):
        assert f'name="strategy" value="{value}"' in html
    assert 'data-emotions=\'["Angry", "Disgust", "Fear", "Happy", "Neutral", "Sad", "Surprise"]\'' in html


def test_assets_come_from_the_app_with_the_right_types(client: FlaskClient) -> None:
    html = client.get("/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for module in ("api", "camera", "history", "result", "app"):
        response = client.get(f"/static/pages/js/{module}.js")
        assert response.status_code == 200
        assert response.mimetype == "text/javascript"


def test_no_asset_loads_anything_from_another_site() -> None:
    # Spotify's player and links are the only outside addresses, and they are not assets.
    allowed = ("https://open.spotify.com/embed/playlist/", "https://open.spotify.com/playlist/")
    for path in STATIC.rglob("*"):
        if path.suffix not in {".js", ".css", ".html", ".svg"}:
            continue
        for url in re.findall(r"https?://[^\s\"'`)]+", path.read_text(encoding="utf-8")):
            assert url.startswith(allowed) or url == "http://www.w3.org/2000/svg", (path.name, url)


def test_security_headers_on_page_and_api(client: FlaskClient) -> None:
    for url in ("/", "/api/history"):
        headers = client.get(url).headers
        assert headers["Content-Security-Policy"] == content_security_policy()
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "frame-src https://open.spotify.com" in headers["Content-Security-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Permissions-Policy"].startswith("camera=(self)")

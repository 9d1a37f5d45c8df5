"""No selfie on any disk: after its analysis ends, nothing the stack wrote can give the photo back.

A photo over 1 MB (FER2013 faces pasted into a large noisy canvas) is uploaded over HTTP to
gunicorn, analysed by ``celery -A worker worker --beat``, and once it is done every file the stack
wrote is searched: the instance folder (SQLite database pages, WAL/journal, the embedded broker),
the processes' temporary folder (TMPDIR), the logs, and on the server setup a Redis of the test's
own with persistence on (its AOF files, and an RDB written with SAVE) and the PostgreSQL cluster's
files. Searched for: the uploaded bytes, which travel to the worker as they are (sealed), raw and
in base64 (standard and URL-safe), and the analysis's photo key (with it, a sealed copy of the
photo in the broker's files could be opened).
"""

from __future__ import annotations

import base64
import re
import sys
import time
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from tests.integration.conftest import http_session, poll_done
from tests.integration.faults import FAST_SETTINGS
from tests.integration.processes import Proc, free_port, service_env, start_gunicorn
from tests.integration.servers import PostgresCluster, RedisServer

pytestmark = pytest.mark.integration

FERNET_TOKEN = re.compile(rb"gAAAAA[A-Za-z0-9_\-]{40,}={0,2}")


def big_photo() -> bytes:
    """A JPEG over 1 MB: four FER2013 faces pasted into a 2400x1800 canvas of strong noise."""
    import numpy as np
    from PIL import Image

    from tests.recognizer.photos import encode, fer_face

    rng = np.random.default_rng(16)
    canvas = Image.fromarray(rng.integers(60, 200, (1800, 2400, 3), dtype=np.uint8))
    for i, (left, top) in enumerate([(200, 300), (900, 250), (1500, 700), (600, 1100)]):
        canvas.paste(fer_face(i).convert("RGB").resize((420, 420), Image.Resampling.BICUBIC), (left, top))
    data = encode(canvas, "JPEG", quality=92)
    assert len(data) > 1_000_000
    return data


def needles(data: bytes, label: str) -> dict[str, bytes]:
    """Distinctive pieces of ``data``: raw windows, and windows of its base64 (standard, URL-safe)."""
    found: dict[str, bytes] = {}
    for fraction in (0.25, 0.5, 0.75):
        at = int(len(data) * fraction)
        found[f"{label} raw @{at}"] = data[at:at + 32]
        for name, encoded in (("base64", base64.b64encode(data)), ("urlsafe base64", base64.urlsafe_b64encode(data))):
            at64 = (int(len(encoded) * fraction) // 4) * 4
            found[f"{label} {name} @{at64}"] = encoded[at64:at64 + 40]
    return found


def sealed_tokens(content: bytes) -> list[bytes]:
    """Fernet tokens in ``content``, raw or inside a message body in base64 (kombu's envelope)."""
    tokens = FERNET_TOKEN.findall(content)
    for body in re.findall(rb'"body": "([A-Za-z0-9+/=]{60,})"', content):
        tokens += FERNET_TOKEN.findall(base64.b64decode(body))
    return tokens


def id_forms(analysis_id: str) -> dict[str, bytes]:
    """The analysis id as stores keep it: text, hex (SQLite), 16 bytes (PostgreSQL's uuid)."""
    value = uuid.UUID(analysis_id)
    return {"id text": analysis_id.encode(), "id hex": value.hex.encode(), "id bytes": value.bytes}


def files_under(*roots: Path) -> list[Path]:
    return [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]


def search(paths: list[Path], wanted: dict[str, bytes]) -> list[str]:
    """Every (needle, file) where a needle occurs."""
    hits = []
    for path in paths:
        try:
            content = path.read_bytes()
        except OSError:
            continue
        hits += [f"{name} in {path}" for name, needle in wanted.items() if needle in content]
    return hits


@pytest.mark.parametrize("setup", ["redis_postgres", "embedded"])
def test_no_copy_of_the_photo_survives_its_analysis(setup: str, servers_available: None,
                                                    tmp_path: Path, service_config: dict[str, str | None]) -> None:
    photo = big_photo()
    temp = tmp_path / "tmp"
    logs = tmp_path / "logs"
    temp.mkdir()
    logs.mkdir()
    config = {**service_config, **FAST_SETTINGS, "TMPDIR": str(temp)}
    redis_server = pg = None
    stores: list[Path] = [Path(config["EMOTUNE_INSTANCE_PATH"]), temp, logs]
    if setup == "redis_postgres":
        redis_server = RedisServer(appendonly=True).start()
        pg = PostgresCluster().start()
        config.update(REDIS_URL=redis_server.url, DATABASE_URL=pg.create_database("emotune"))
        stores += [redis_server.dir, pg.data]
    from tests.integration.test_flow import prepare_app

    app = prepare_app(config)
    with app.app_context():
        from emotune.extensions import db

        db.engine.dispose()
    env = service_env(config)
    port = free_port()
    web = start_gunicorn(env, logs, port)
    worker: Proc | None = None
    try:
        base = f"http://127.0.0.1:{port}"
        session, headers = http_session(base)
        response = session.post(f"{base}/api/analyses", files={"image": ("big.jpg", photo, "image/jpeg")},
                                headers=headers, timeout=60)
        assert response.status_code == 202, response.text
        analysis_id = response.json()["id"]
        # Read the photo key while the analysis waits (the worker starts after): it must vanish too.
        with app.app_context():
            from emotune.models import Analysis

            key = db.session.get(Analysis, uuid.UUID(analysis_id)).photo_key
            db.session.remove()
            db.engine.dispose()
        assert key
        if redis_server is not None:
            # Control: while it waits, the AOF holds its message, and the sealed photo there opens with
            # the key, so the searches below would see a copy that outlived the analysis.
            aof = files_under(redis_server.dir)
            assert search(aof, {"analysis id": analysis_id.encode()}), "the AOF did not record the message"
            tokens = [t for path in aof for t in sealed_tokens(path.read_bytes())]
            assert photo in [Fernet(key.encode()).decrypt(t) for t in tokens]
        queue = config["EMOTUNE_QUEUE"]
        worker = Proc("worker", [sys.executable, "-m", "celery", "-A", "worker", "worker", "--beat",
                                 "--loglevel", "INFO", "--pool", "prefork", "--concurrency", "1",
                                 "--queues", f"{queue},{queue}.control", "--without-mingle", "--without-gossip",
                                 "--schedule", str(tmp_path / "beat")], env, logs)
        worker.wait_for_log("ready.", timeout=120)
        body = poll_done(lambda: session.get(f"{base}/api/analyses/{analysis_id}", timeout=10).json())
        assert body["status"] == "done", body
        # Let the worker finish its after-task cleanup (embedded broker rows) and a sweep run.
        time.sleep(3)
        if redis_server is not None:
            # The sweep has Redis rewrite its AOF once commands were appended (emotune.broker_cleanup):
            # wait for one rewrite that started after the analysis ended.
            client = redis_server.client()
            rewrites = client.info("persistence")["aof_rewrites"]
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                info = client.info("persistence")
                if info["aof_rewrites"] > rewrites and not info["aof_rewrite_in_progress"]:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"no AOF rewrite within 30 s of the end: {client.info('persistence')}")
            redis_server.client().save()  # an RDB snapshot beside the AOF
            assert list(redis_server.dir.rglob("*.aof")) and (redis_server.dir / "dump.rdb").exists()
        if pg is not None:
            pg.checkpoint()
        paths = files_under(*stores)
        # Controls: the search reads the stores, and they did record this analysis.
        control = search(paths, id_forms(analysis_id))
        assert control, "the analysis id is nowhere: the search is not reading the stores"
        if redis_server is not None:
            assert any(str(pg.data) in hit for hit in control), control
        wanted = needles(photo, "upload")
        hits = search(paths, wanted)
        assert not hits, "\n".join(hits)
        # No sealed copy of this photo is left anywhere: every Fernet token the stores kept, raw or
        # inside a message body, fails to open with the analysis's key. (The key itself may linger
        # in the database's own files, e.g. PostgreSQL's dead row versions and WAL: without a sealed
        # copy it opens nothing.)
        tokens = [token for path in paths for token in sealed_tokens(path.read_bytes())]
        for token in tokens:
            with pytest.raises(InvalidToken):
                Fernet(key.encode()).decrypt(token)
        key_left = search(paths, {"photo key": key.encode()})
        print(f"{setup}: searched {len(paths)} files ({sum(p.stat().st_size for p in paths) / 1e6:.1f} MB) "
              f"for {len(wanted)} pieces of a {len(photo) / 1e6:.2f} MB photo: none found; {len(tokens)} sealed "
              f"messages left, none of this photo; its key still in: {key_left or 'nothing'}")
    finally:
        if worker is not None:
            worker.stop()
        web.stop()
        if redis_server is not None:
            redis_server.cleanup()
        if pg is not None:
            pg.cleanup()

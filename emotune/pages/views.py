"""Routes of the pages blueprint."""

from flask import render_template, session

from emotune.api.browser_session import CONSENT_KEY
from emotune.pages import bp
from recognizer.emotions import EMOTIONS

STRATEGY_LABELS: dict[str, str] = {
    "match": "Match my mood",
    "lift": "Lift my mood",
    "calm": "Calm me down",
}


@bp.get("/")
def index() -> str:
    """Render the EmoTune page: consent notice, capture, status, result and history."""
    return render_template(
        "pages/index.html",
        consent_given=bool(session.get(CONSENT_KEY)),
        emotions=EMOTIONS,
        strategies=STRATEGY_LABELS,
    )

"""``flask field-report``: the corrections people made, per served model, as read vs said.

This is EmoTune's only view of how it does on real faces, and a partial one: people who correct a
reading choose to, so the counts say where the model was told it was wrong, not how often it is.
"""

from __future__ import annotations

import textwrap

import click
from flask.cli import with_appcontext

from emotune.extensions import db
from emotune.field_accuracy import confusion
from recognizer.emotions import EMOTIONS

CAVEAT = (
    "Read this with care: people who correct a reading are a self-selected sample (those who cared, "
    "noticed and took the time), and nobody confirms a right reading, so these counts are not an "
    "accuracy and cannot be compared with the test-set figures in ml/MODEL_CARD.md. They show where "
    "the model was told it was wrong, and what people said instead."
)


def report_lines(counts: dict[tuple[str, str], dict[tuple[str, str], int]]) -> list[str]:
    """The report as lines of text: per model, per read class how often corrected and to what, then
    the read x said matrix."""
    lines = [*textwrap.wrap(CAVEAT, 100), ""]
    if not counts:
        return [*lines, "No corrections yet."]
    for (name, version), cells in sorted(counts.items()):
        total = sum(cells.values())
        lines.append(f"Model {name} (version {version}): {total} corrected "
                     f"{'analysis' if total == 1 else 'analyses'}")
        for read in EMOTIONS:
            row = {said: n for (r, said), n in cells.items() if r == read}
            if not row:
                continue
            to = ", ".join(f"{said} {n}" for said, n in sorted(row.items(), key=lambda kv: (-kv[1], kv[0])))
            lines.append(f"  read {read:<8} corrected {sum(row.values()):>4} times, to: {to}")
        width = max(len(e) for e in EMOTIONS) + 1
        lines.append("  read \\ said " + " ".join(f"{e[:width]:>{width}}" for e in EMOTIONS))
        for read in EMOTIONS:
            lines.append(f"  {read:<12}" + " ".join(f"{cells.get((read, said), 0):>{width}}" for said in EMOTIONS))
        lines.append("")
    return lines


@click.command("field-report")
@with_appcontext
def field_report() -> None:
    """Print the corrections people made to readings, per served model (read vs said)."""
    for line in report_lines(confusion(db.session)):
        click.echo(line)


COMMANDS = [field_report]

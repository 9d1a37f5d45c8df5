"""Flask CLI commands: each module lists its commands in ``COMMANDS``; ``register_commands`` adds them."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Add the catalogue and serve commands to ``app.cli`` (the model commands are Flask plugin
    commands, declared in pyproject.toml, so they work without building the app)."""
    from emotune import field_report
    from emotune.cli import catalogue, serve

    for module in (catalogue, serve, field_report):
        for command in module.COMMANDS:
            app.cli.add_command(command)

"""Flask CLI commands: each module lists its commands in ``COMMANDS``; ``register_commands`` adds them."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Add the catalogue, training and serve commands to ``app.cli``."""
    from emotune.cli import catalogue, serve, training

    for module in (catalogue, training, serve):
        for command in module.COMMANDS:
            app.cli.add_command(command)

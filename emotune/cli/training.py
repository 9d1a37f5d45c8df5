"""Model commands of the ``flask`` CLI: ``flask train-model``, ``flask evaluate-model``, ``flask benchmark-training``."""

import click

from ml.cli import benchmark_training, evaluate_model, train_model

COMMANDS: list[click.Command] = [train_model, evaluate_model, benchmark_training]

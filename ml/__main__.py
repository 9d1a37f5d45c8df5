"""``python -m ml train-model|evaluate-model``: the model commands without the web app."""

from ml.cli import main

main()

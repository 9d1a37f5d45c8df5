"""Where MobileNetV2's ImageNet weights come from: a given path, Keras's cache, or Keras's download.

The path comes from ``--base-weights`` or ``EMOTUNE_BASE_WEIGHTS``, both read by ``ml/cli.py``; this
module takes it as a parameter.
"""

import os
from pathlib import Path

WEIGHTS_FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
ENV_VAR = "EMOTUNE_BASE_WEIGHTS"


class WeightsUnavailable(RuntimeError):
    """No ImageNet weights could be had; the message says how to provide the file."""


def keras_cache_file() -> Path:
    """The file Keras's ``weights="imagenet"`` looks for before downloading."""
    home = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras"))
    return home / "models" / WEIGHTS_FILE


def resolve_base_weights(explicit: str | Path | None, pretrained: bool = True) -> str | None:
    """Return what to pass as ``weights=`` to MobileNetV2.

    Order: ``explicit`` path (``--base-weights`` or ``EMOTUNE_BASE_WEIGHTS``), Keras's cache folder, then ``"imagenet"``
    (Keras downloads it when online). ``pretrained=False`` (the ``--no-pretrained`` flag) returns None
    and the base starts random; that is only ever done on request.
    """
    if not pretrained:
        return None
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise WeightsUnavailable(f"--base-weights (or {ENV_VAR}) points to {path}, which is not a file. {how_to_provide()}")
        return str(path)
    cached = keras_cache_file()
    if cached.is_file():
        return str(cached)
    return "imagenet"


def how_to_provide() -> str:
    """One sentence telling the user how to make the weights available offline."""
    return (
        f"Provide MobileNetV2's ImageNet weights file ({WEIGHTS_FILE}) with --base-weights PATH, "
        f"the {ENV_VAR} environment variable, or by copying it to {keras_cache_file()}."
    )

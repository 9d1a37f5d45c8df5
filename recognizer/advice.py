"""What a person is told when no face in their photo can be read, and what to try next.

Kept apart from the pipeline so that the web, which shows these words, never imports the detector.
"""

from typing import Final

NO_FACE_MESSAGE: Final = "We couldn't find a face in this photo, so we can't tell the emotion."
FACE_TOO_SMALL_MESSAGE: Final = (
    "We found a face, but it is too small in the photo to read its expression, so we can't tell the emotion."
)
TOO_SMALL_REASON: Final = (
    "This face is too small in the photo to read its expression. Move closer or use a larger photo."
)
NO_FACE_TIPS: Final[tuple[str, ...]] = (
    "Face the camera with your whole face in the frame.",
    "Use even, bright light; avoid a bright window behind you.",
    "Take off sunglasses or a mask, and move hair away from your eyes.",
    "Hold the camera closer so your face fills about a third of the photo.",
)

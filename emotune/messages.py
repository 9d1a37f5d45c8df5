"""What a person is told about an analysis that failed or waits: each message says what happened and what to do."""

QUEUE_UNAVAILABLE = (
    "The analysis queue is not reachable right now, so the photo was not analysed. "
    "Try again in a minute."
)

LOST_MESSAGE = (
    "This photo was lost on its way to the emotion model (the queue restarted or a worker failed "
    "before it started), so it was not analysed. Please upload it again."
)

"""What a person is told about an analysis that failed or waits: each message says what happened and what to do."""

QUEUE_UNAVAILABLE = (
    "The analysis queue is not reachable right now, so the photo was not analysed. "
    "Try again in a minute."
)

LOST_MESSAGE = (
    "This photo was lost on its way to the emotion model (the queue restarted or a worker failed "
    "before it started), so it was not analysed. Please upload it again."
)

PHOTO_DAMAGED = "The photo did not reach the worker intact. Please upload it again."

MODEL_FAILED = "The emotion model failed on this photo; the operator has been told. Please try again later."

CRASHED = "Something went wrong while analysing the photo. Please try again."


def gave_up(attempts: int) -> str:
    """An analysis that stopped its worker every time it ran."""
    return f"The analysis stopped its worker {attempts} times, so it was given up. Please try another photo."


def timed_out(limit_s: float) -> str:
    """An analysis that ran past its soft time limit."""
    return f"The analysis took longer than {limit_s} s. Please try again, perhaps with a smaller photo."


def stopped_running(limit_s: float) -> str:
    """A running analysis whose worker can no longer be finishing it."""
    return (f"The analysis stopped without finishing within {limit_s} s (the worker was stopped or ran out "
            "of time). Please try again with a new photo.")


def waiting_in_queue(waited_s: float) -> str:
    """A queued analysis behind other photos while workers are taking work."""
    return (f"Waiting in the queue for {waited_s:.0f} s behind other photos; workers are taking work, so it "
            "will start soon. If it cannot run, it ends with a message saying so.")


def waiting_for_worker(waited_s: float) -> str:
    """A queued analysis while no worker has taken work for a while."""
    return (f"No worker has taken work for a while, so this photo has waited {waited_s:.0f} s. It runs when "
            "a worker is back; the operator should check that one is running (`celery -A worker worker` and "
            "`celery -A worker beat`, or `emotune`) and see /readyz.")

"""The one error type for user errors (bad input, bad config, missing files).

The CLI prints a :class:`LongAQAError` as a single line and exits with code 2; anything else is a bug
and keeps its traceback.
"""


class LongAQAError(Exception):
    """A problem with the user's input, named with the file or key it concerns."""


def short_path(path: object) -> str:
    """A path for a one-line message: one over 120 characters is cut in the middle, its length given."""
    name = str(path)
    return name if len(name) <= 120 else f"{name[:60]}...{name[-40:]} ({len(name)} characters)"

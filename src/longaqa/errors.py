"""The one error type for user errors (bad input, bad config, missing files).

The CLI prints a :class:`LongAQAError` as a single line and exits with code 2; anything else is a bug
and keeps its traceback.
"""


class LongAQAError(Exception):
    """A problem with the user's input, named with the file or key it concerns."""

"""The one base class of the errors a user can fix."""


class ShequError(Exception):
    """A problem the person running a command can fix (a bad file, a missing step). Its
    message, in Chinese, says what is wrong and how to fix it; the command line prints it
    without a traceback and exits with status 2."""

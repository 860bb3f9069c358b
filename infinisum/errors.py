"""The library's own exceptions. The library raises these; `cli.py` turns them into one line and exit 1."""


class InfinisumError(Exception):
    """Base class of every error infinisum reports to a user."""


class DocumentError(InfinisumError):
    """A document cannot be read (missing, unsupported, empty, corrupt, encrypted, ...)."""


class ModelError(InfinisumError):
    """A model cannot be found or loaded."""


class EvaluationError(InfinisumError):
    """An evaluation cannot run (missing references, empty folder, conflicting output dir, ...)."""

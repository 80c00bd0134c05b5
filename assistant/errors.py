"""Errors whose messages are safe to show a user, and say what to do next."""


class AssistantError(Exception):
    """Base class: the message is one line, fit for a user, and says what to do."""


class InputError(AssistantError):
    """A question, file or record that cannot be used as given."""


class IndexMissingError(AssistantError):
    """There is no index (or an empty one) where one was expected."""


class IndexMismatchError(AssistantError):
    """The index was built with another model or chunking than the one configured."""


class ArticleNotFoundError(AssistantError):
    """No article with the given id is in the index."""


class ModelMissingError(AssistantError, FileNotFoundError):
    """A model the project installs from PyPI is not installed."""


class ConfigError(AssistantError):
    """The configuration file or environment holds an invalid value."""


class GoldSetError(AssistantError):
    """A gold-set file or case is malformed."""


class StoreError(AssistantError):
    """The index's store failed: a full disk, a Chroma error, an unreachable server."""


class IndexBusyError(StoreError):
    """Another process is writing the index and did not finish in time."""


class ReadOnlyError(StoreError):
    """A write was asked of an index this user cannot write."""

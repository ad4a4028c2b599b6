"""pipeledger: who did what in CI/CD, recorded in a verifiable ledger."""

from importlib.metadata import PackageNotFoundError, version

try:
    # The one source of the version is pyproject.toml; installed metadata carries it here.
    __version__ = version("pipeledger")
except PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

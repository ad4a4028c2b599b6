"""The project's own errors: each knows its exit code and tells the user what to change.

``main()`` is the only place that catches them; nothing else prints or exits.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    VIOLATIONS = 1
    USAGE = 2
    PLATFORM = 3
    VERIFY_FAILED = 4


class PipeledgerError(Exception):
    """Base of every error the CLI reports. ``remedy`` says what to do about it."""

    exit_code: ExitCode = ExitCode.PLATFORM

    def __init__(self, message: str, remedy: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.remedy = remedy

    def describe(self) -> str:
        """One paragraph: what went wrong, then what to change."""
        if self.remedy:
            return f"{self.message} {self.remedy}"
        return self.message


class UsageError(PipeledgerError):
    """Bad arguments, config or policy file (exit 2)."""

    exit_code = ExitCode.USAGE


class LedgerNotFound(UsageError):
    """A command that reads the ledger was pointed at one that does not exist (exit 2);
    it is never created empty."""

    @classmethod
    def at(cls, where: str) -> LedgerNotFound:
        return cls(
            f"no ledger at {where} —",
            "run `pipeledger collect` first or pass --sink with the ledger's URL.",
        )


class ConfigError(UsageError):
    """A configuration or policy file that cannot be used (exit 2)."""


class PlatformError(PipeledgerError):
    """The forge's API failed, refused or answered nonsense (exit 3)."""

    exit_code = ExitCode.PLATFORM


class PermissionDenied(PlatformError):
    """The token lacks a scope or permission; the remedy names it."""


class RateLimitStop(PlatformError):
    """Waiting for the rate limit to reset would take longer than allowed."""


class MalformedResponse(PlatformError):
    """The API answered with something that is not the documented shape."""


class AwaitingApproval(PipeledgerError):
    """The deployment the gate must judge is still waiting for its environment approval, so
    the gate runs before the approval it has to check (exit 1: the deploy is refused like a
    policy violation; neither ``--fail-open`` nor ``--fail-on`` lets it through)."""

    exit_code = ExitCode.VIOLATIONS


class SinkError(PipeledgerError):
    """A store could not be opened, read or written (exit 3)."""

    exit_code = ExitCode.PLATFORM


class InternalError(PipeledgerError):
    """An exception that is not one of the project's own: a bug (exit 3). ``main()`` turns
    every such exception into this one line; ``check`` records an ``error`` decision first."""

    exit_code = ExitCode.PLATFORM

    @classmethod
    def from_exception(cls, error: BaseException) -> InternalError:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        what = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
        return cls(
            f"internal error: {what[:300]};",
            "this is a bug — rerun with -v and report it with that output"
            " (https://github.com/pipeledger/pipeledger/issues).",
        )


class VerificationFailed(PipeledgerError):
    """The ledger's hash chain or a checkpoint does not match (exit 4)."""

    exit_code = ExitCode.VERIFY_FAILED

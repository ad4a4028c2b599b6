"""The policy file's path as code-scanning tools want it: relative, with forward slashes."""

from __future__ import annotations

from pathlib import Path, PurePosixPath


def repo_relative(path: str, root: Path | None = None) -> str:
    """Relative to ``root`` (the working directory) when inside it, else as given."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to((root or Path.cwd()).resolve())
        except ValueError:
            return candidate.as_posix()
    return PurePosixPath(candidate.as_posix()).as_posix().removeprefix("./")

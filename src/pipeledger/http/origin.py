"""Where the API's credentials may go: the configured API root's origin (scheme, host, port)
and path prefix.

Every URL pipeledger follows on its own — a ``Link: rel="next"``, a ``Location`` of a
redirect, a ``url`` field of a payload, a page URL kept in a snapshot cursor — must lie under
that root, or it is not requested at all: the token travels with every API request, so a URL
on another host would hand it over.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urljoin, urlsplit, urlunsplit

from pipeledger.errors import MalformedResponse, PlatformError
from pipeledger.printable import one_line
from pipeledger.redact import redact_url

DEFAULT_PORTS = {"http": 80, "https": 443}


class ForeignUrl(PlatformError):
    """The API pointed at a URL outside its own root; nothing was sent there (exit 3)."""


@dataclass(frozen=True)
class ApiOrigin:
    """The configured API root: ``https://HOST[:PORT]/PREFIX``."""

    scheme: str
    host: str
    port: int
    prefix: str  # "" or "/api/v3" (no trailing slash)

    @classmethod
    def of(cls, base_url: str) -> ApiOrigin:
        parts = urlsplit(base_url.strip())
        scheme = parts.scheme.lower()
        return cls(
            scheme=scheme,
            host=(parts.hostname or "").lower(),
            port=_port(parts, scheme),
            prefix=parts.path.rstrip("/"),
        )

    @property
    def base_url(self) -> str:
        default = DEFAULT_PORTS.get(self.scheme)
        host = f"[{self.host}]" if ":" in self.host else self.host
        netloc = host if self.port == default else f"{host}:{self.port}"
        return f"{self.scheme}://{netloc}{self.prefix}"

    def contains(self, url: str) -> bool:
        """True when ``url`` is absolute, has no user info, and lies under the root."""
        try:
            parts = urlsplit(url)
            port = _port(parts, parts.scheme.lower())
        except ValueError:  # a port that is not a number, a broken IPv6 literal
            return False
        if parts.username is not None or parts.password is not None:
            return False
        if (parts.scheme.lower(), (parts.hostname or "").lower(), port) != (
            self.scheme,
            self.host,
            self.port,
        ):
            return False
        return _under(parts.path, self.prefix)

    def resolve(self, target: str, *, base: str | None = None, what: str = "a URL") -> str:
        """The absolute URL to request for an API path (``/repos/...``) or a URL the API
        gave (absolute, or relative to ``base``); a URL outside the root raises
        :class:`ForeignUrl` naming it."""
        if target.startswith("/") and not target.startswith("//") and base is None:
            url = self.base_url + target
        else:
            try:
                url = urljoin(base or self.base_url + "/", target)
            except ValueError:
                raise MalformedResponse(
                    f"The API at {self.base_url} pointed to a URL that cannot be requested:"
                    f" {one_line(redact_url(target), 200)!r}.",
                    "This is a fault of the API or a proxy in between; what was collected"
                    " before is saved and a rerun resumes from there.",
                ) from None
        if not self.contains(url):
            raise foreign_url(url, self, what)
        return url

    def relative(self, url: str) -> str | None:
        """``url`` as a path under the root (``/repos/...?page=2``) for storing, or None when
        it lies outside it — such a URL is never persisted."""
        if not self.contains(url):
            return None
        parts = urlsplit(url)
        path = parts.path[len(self.prefix) :] or "/"
        return urlunsplit(("", "", path, parts.query, ""))


def foreign_url(url: str, origin: ApiOrigin, what: str) -> ForeignUrl:
    return ForeignUrl(
        f"The API at {origin.base_url} pointed {what} at {one_line(redact_url(url), 200)},"
        " which is outside its own root; it was not requested and no credentials were sent"
        " there.",
        "A proxy or server in front of the API rewrote a URL (check its external URL"
        " setting), or --api-url names a different address than the API uses for itself;"
        " give --api-url exactly as the API reports its own URLs. What was collected before"
        " is saved.",
    )


def _port(parts: SplitResult, scheme: str) -> int:
    return parts.port or DEFAULT_PORTS.get(scheme, 0)


def _under(path: str, prefix: str) -> bool:
    """``path`` is the prefix or below it, with no ``.``/``..`` segment (plain or
    percent-encoded) that a server could resolve to somewhere else."""
    segments = path.split("/")
    if any(unquote(segment) in (".", "..") for segment in segments):
        return False
    if "\\" in unquote(path):
        return False
    return not prefix or path == prefix or path.startswith(prefix + "/")

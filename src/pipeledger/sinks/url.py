"""Parses a sink URL into its parts and its options (the query string), refusing options a
sink does not know, so a typo is an error rather than a silently ignored setting."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pipeledger.errors import UsageError
from pipeledger.held_secrets import hold
from pipeledger.redact import MASK, redact_url

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class SinkUrl:
    """``scheme+transport://user:password@host:port/path?options``."""

    original: str
    scheme: str
    transport: str
    host: str
    port: int | None
    path: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    options: Mapping[str, str] = field(default_factory=dict)
    passthrough: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, url: str, known: Iterable[str], *, keep_unknown: bool = False) -> SinkUrl:
        """Split ``url``; options not in ``known`` are refused, or kept as ``passthrough``
        query parameters when the target URL may carry its own (a webhook's)."""
        parts = urlsplit(url)
        scheme, _, transport = parts.scheme.lower().partition("+")
        try:
            port = parts.port
        except ValueError:
            raise UsageError(
                f"The port in the sink URL {redact_url(url)} is not a number."
            ) from None
        if not parts.hostname:
            raise UsageError(f"The sink URL {redact_url(url)} names no host.")
        allowed = set(known)
        options: dict[str, str] = {}
        passthrough: list[tuple[str, str]] = []
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key in allowed:
                options[key] = value
            elif keep_unknown:
                passthrough.append((key, value))
            else:
                raise UsageError(
                    f"The sink URL {redact_url(url)} has an unknown option {key!r}.",
                    f"Known options: {', '.join(sorted(allowed))}.",
                )
        return cls(
            original=url,
            scheme=scheme,
            transport=transport or scheme,
            host=parts.hostname,
            port=port,
            path=parts.path,
            username=parts.username,
            password=hold(parts.password),
            options=options,
            passthrough=tuple(passthrough),
        )

    @property
    def netloc(self) -> str:
        """Host and port without credentials (IPv6 hosts bracketed)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port else host

    @property
    def display(self) -> str:
        """The URL as it may be printed: no password, no secret-looking option, and no
        passthrough value (a receiver's own query parameters are often keys: ?code=…)."""
        if not self.passthrough:
            return redact_url(self.original)
        parts = urlsplit(self.original)
        hidden = {key for key, _ in self.passthrough}
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        query = urlencode([(k, MASK if k in hidden else v) for k, v in pairs], safe="*")
        return redact_url(urlunsplit(parts._replace(query=query)))

    def option(self, name: str, default: str | None = None) -> str | None:
        value = self.options.get(name)
        return value if value not in (None, "") else default

    def option_int(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self.option(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if not minimum <= value <= maximum:
            raise UsageError(
                f"The option {name}={raw!r} in the sink URL {self.display} is out of range.",
                f"Use a whole number from {minimum} to {maximum}.",
            )
        return value

    def option_bool(self, name: str) -> bool:
        raw = (self.option(name) or "0").lower()
        if raw in TRUE_WORDS:
            return True
        if raw in FALSE_WORDS:
            return False
        raise UsageError(
            f"The option {name}={raw!r} in the sink URL {self.display} is not a yes/no value.",
            f"Write {name}=1 or {name}=0.",
        )


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")

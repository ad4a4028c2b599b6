"""Keeps secrets out of everything pipeledger prints, logs or stores."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit, urlunsplit

from pipeledger.held_secrets import held, secret_pieces

MASK = "***"
# Any variable whose name says it holds a credential; plugins need not register theirs.
SECRET_ENV_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|PRIVATE_KEY|SIGNING_KEY)")
_SECRET_QUERY_KEYS = re.compile(r"(token|secret|key|password|signature|sig|auth)", re.IGNORECASE)


def redact_url(url: str) -> str:
    """Drop userinfo passwords and secret-looking query values from a URL."""
    if "://" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:  # not parseable (a broken IPv6 host): keep only what is surely safe
        return re.sub(r"//[^/?#]*@", f"//{MASK}@", url.split("?", 1)[0].split("#", 1)[0])
    netloc = _redact_netloc(parts)
    query = urlencode(
        [(k, MASK if _SECRET_QUERY_KEYS.search(k) else v) for k, v in parse_qsl(parts.query)],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _redact_netloc(parts: SplitResult) -> str:
    if parts.username is None and parts.password is None:
        return parts.netloc
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    if parts.password is not None:
        return f"{user}:{MASK}@{host}"
    return f"{MASK}@{host}" if user else host


class SecretMasker:
    """Replaces every known secret value in text, longest first: the ones given, each line
    of a multi-line one (a PEM key), and every credential this run holds
    (:mod:`pipeledger.held_secrets`, e.g. a GitHub App token minted during the run)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = {piece for s in secrets for piece in secret_pieces(s)}

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> SecretMasker:
        return cls(value for name, value in environ.items() if SECRET_ENV_NAME.search(name.upper()))

    def add(self, secret: str) -> None:
        self._secrets.update(secret_pieces(secret))

    def values(self) -> list[str]:
        """The secrets themselves, for a CI's own masking command (``::add-mask::``)."""
        return sorted(self._secrets)

    def mask(self, text: str) -> str:
        for secret in sorted(self._secrets.union(held()), key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

"""Finds adapter and sink plugins through entry points, the project's own as anyone else's.

Plugins load lazily; one that fails to import is reported by name and distribution with how
to install what it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING

from pipeledger.collect.adapter import Adapter
from pipeledger.docs_links import docs_url
from pipeledger.errors import UsageError

if TYPE_CHECKING:
    from pipeledger.access_terms import AccessTerms
    from pipeledger.serve.receiver import Receiver
    from pipeledger.sinks.contract import Sink

ADAPTER_GROUP = "pipeledger.adapters"
SINK_GROUP = "pipeledger.sinks"
RECEIVER_GROUP = "pipeledger.webhooks"
ACCESS_TERMS_GROUP = "pipeledger.access_terms"


def adapter_entries() -> list[EntryPoint]:
    """The adapters' entry points, read once for a caller that lists and then loads them
    (each read scans every installed distribution)."""
    return list(entry_points(group=ADAPTER_GROUP))


def available_adapters(entries: Iterable[EntryPoint] | None = None) -> list[str]:
    found = entry_points(group=ADAPTER_GROUP) if entries is None else entries
    return sorted(ep.name for ep in found)


def available_sinks() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=SINK_GROUP))


def load_adapter(platform: str, entries: Iterable[EntryPoint] | None = None) -> type[Adapter]:
    """The adapter ``platform``, from ``entries`` (adapter_entries()) or a fresh read."""
    loaded = _load(
        ADAPTER_GROUP, platform, "platform", lambda: available_adapters(entries), entries
    )
    if not (isinstance(loaded, type) and issubclass(loaded, Adapter)):
        raise UsageError(f"The plugin registered for platform {platform!r} is not an Adapter.")
    return loaded


@cache
def load_access_terms(platform: str) -> AccessTerms:
    """What the roles and protection settings of ``platform`` mean, as its plugin declares
    them; :data:`~pipeledger.access_terms.NO_TERMS` for a platform whose plugin declares none
    (its events are then read by the names of their settings alone). Read once per run."""
    from pipeledger.access_terms import NO_TERMS, AccessTerms

    matches = [ep for ep in entry_points(group=ACCESS_TERMS_GROUP) if ep.name == platform]
    if not matches:
        return NO_TERMS
    loaded = _import(matches[0], "access terms")
    if not isinstance(loaded, AccessTerms):
        raise UsageError(
            f"The plugin registered for the access terms of {platform!r} is not AccessTerms.",
            "Fix or uninstall that plugin; its entry point must name an AccessTerms object.",
        )
    return loaded


def sink_scheme(url: str) -> str:
    """``-`` is stdout; otherwise the URL scheme before ``://`` (``splunk+https`` → ``splunk``)."""
    if url == "-":
        return "stdout"
    if "://" not in url:
        raise UsageError(
            f"The sink {url!r} is not a URL.",
            "Write it as sqlite:///path.db, jsonl:///path.jsonl, - (stdout), postgresql://…,"
            " https://… or another registered scheme.",
        )
    scheme = url.split("://", 1)[0].lower()
    return scheme.split("+", 1)[0]


def load_sink(url: str) -> type[Sink]:
    from pipeledger.sinks.contract import Sink

    scheme = sink_scheme(url)
    if scheme in ("http", "https"):
        scheme = "webhook"
    loaded = _load(SINK_GROUP, scheme, "sink scheme", available_sinks)
    if not (isinstance(loaded, type) and issubclass(loaded, Sink)):
        raise UsageError(f"The plugin registered for sink scheme {scheme!r} is not a Sink.")
    return loaded


def available_receivers() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=RECEIVER_GROUP))


def load_receiver(name: str) -> type[Receiver]:
    from pipeledger.serve.receiver import Receiver

    loaded = _load(RECEIVER_GROUP, name, "webhook receiver", available_receivers)
    if not (isinstance(loaded, type) and issubclass(loaded, Receiver)):
        raise UsageError(f"The plugin registered for webhook receiver {name!r} is not a Receiver.")
    return loaded


def _load(
    group: str,
    name: str,
    what: str,
    known: Callable[[], list[str]],
    entries: Iterable[EntryPoint] | None = None,
) -> object:
    """The plugin ``name`` of ``group`` (among ``entries`` when given); ``known`` (the names on
    offer) is read only for the error."""
    found = entry_points(group=group) if entries is None else entries
    matches = [ep for ep in found if ep.name == name]
    if not matches:
        raise UsageError(
            f"No plugin provides the {what} {name!r}.",
            f"Available: {', '.join(known()) or 'none'}. Install the plugin that provides it.",
        )
    return _import(matches[0], what)


def _import(entry: EntryPoint, what: str) -> object:
    try:
        return entry.load()
    except ImportError as error:
        dist = entry.dist.name if entry.dist else "an unknown distribution"
        missing = (error.name or str(error)).split(".")[0]
        raise UsageError(
            f"The {what} plugin {entry.name!r} (from {dist}) could not be imported: the"
            f" Python package {missing!r} is missing.",
            f"Install it (pip install {missing}), or the extra of {dist} that provides it"
            f" ({docs_url('getting-started', 'optional-extras')} lists the extras).",
        ) from error

"""The plugin API: the one module a plugin (``plugins/pipeledger_*``) imports from pipeledger.

Everything a platform adapter, a sink, a ledger store or a webhook receiver needs from the
core is named here: the contracts it implements, the event model, the errors, the HTTP
clients, progress reporting, the snapshot model, redaction and printing, the output formats,
the receiver base classes, the hash-chain helpers of a ledger and the gate's policy helpers.
Everything else in ``pipeledger`` is engine-internal and may change without notice.
``tests/core/test_plugin_api.py`` fails when a plugin imports anything else of pipeledger or
another plugin, and when a name here is used by no plugin.

A name is imported from its defining module on first use (PEP 562), so importing this module
costs next to nothing: a gate run does not pay for the HTTP stack or the policy engine of a
plugin it does not load.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pipeledger.access_terms import AccessTerms
    from pipeledger.collect.adapter import (
        Adapter,
        AdapterSettings,
        Batch,
        CiJob,
        CollectRequest,
        CollectScope,
        CursorReader,
        DemoScenario,
        EnvironmentOption,
        GateEvidence,
        GateSource,
        RequestCounts,
        ScopedCollection,
        ScopeOption,
        run_serially,
    )
    from pipeledger.collect.progress import Progress, ProgressRelay, SilentProgress
    from pipeledger.docs_links import docs_url
    from pipeledger.errors import (
        AwaitingApproval,
        LedgerNotFound,
        MalformedResponse,
        PermissionDenied,
        PipeledgerError,
        PlatformError,
        SinkError,
        UsageError,
    )
    from pipeledger.event_check import EARLIEST, LATEST
    from pipeledger.events import (
        UNKNOWN_ACTOR,
        Actor,
        ActorType,
        AuditEvent,
        EventKind,
        Scope,
        Source,
        canonical_json,
        event_id,
        format_time,
        parse_time,
    )
    from pipeledger.formats import RecordSchema, checkpoint_document, render, render_json
    from pipeledger.held_secrets import hold
    from pipeledger.http.client import (
        ApiClient,
        ApiResponse,
        RateLimitHeaders,
        RetryPolicy,
        environment_session,
        parse_link_header,
    )
    from pipeledger.http.origin import foreign_url
    from pipeledger.http.sink import (
        KEPT_IN_LEDGER,
        BatchLimits,
        Hints,
        HttpSinkClient,
        Reply,
        batched,
    )
    from pipeledger.ledger.chain import (
        GENESIS_HASH,
        INDEXED_COLUMNS,
        NewRow,
        checkpoint_from_row,
        new_rows,
        record_from_row,
        unique_by_id,
    )
    from pipeledger.ledger.quarantine import Holding, QuarantinedRecord, quarantine_values
    from pipeledger.ledger.sql import event_conditions
    from pipeledger.policy.engine import Evaluation
    from pipeledger.policy.gate_decision import (
        Decision,
        decision_event,
        evaluate_evidence,
        job_from_run,
        run_event,
    )
    from pipeledger.policy.loader import LoadedPolicy, load_policy
    from pipeledger.policy.model import FailOn
    from pipeledger.printable import one_line
    from pipeledger.redact import redact_url
    from pipeledger.serve.receiver import (
        Delivery,
        Handling,
        LedgerAccess,
        MalformedDelivery,
        Receiver,
        ReceiverSettings,
        RedeliveryRequest,
        RedeliverySummary,
        Route,
        Unauthorized,
        delivery_headers,
    )
    from pipeledger.sinks.contract import (
        ChainCheckpoint,
        EventFilter,
        Ledger,
        LedgerRecord,
        Sink,
        SinkSettings,
        StoredBody,
        StoredRow,
    )
    from pipeledger.sinks.url import SinkUrl, is_loopback
    from pipeledger.snapshots import (
        Grant,
        Protection,
        Snapshot,
        diff_snapshots,
        snapshot_key,
        snapshot_state,
    )

# The defining module of every exported name, grouped as the design document lists them.
_NAMES_BY_MODULE: dict[str, tuple[str, ...]] = {
    # Contracts: what an adapter and a sink implement and what the core hands them.
    "pipeledger.collect.adapter": (
        "Adapter",
        "AdapterSettings",
        "Batch",
        "CursorReader",
        "CiJob",
        "CollectRequest",
        "CollectScope",
        "DemoScenario",
        "EnvironmentOption",
        "GateEvidence",
        "GateSource",
        "RequestCounts",
        "ScopedCollection",
        "ScopeOption",
        "run_serially",
    ),
    "pipeledger.sinks.contract": (
        "ChainCheckpoint",
        "EventFilter",
        "Ledger",
        "LedgerRecord",
        "Sink",
        "SinkSettings",
        "StoredBody",
        "StoredRow",
    ),
    "pipeledger.sinks.url": ("SinkUrl", "is_loopback"),
    # The event model.
    "pipeledger.events": (
        "UNKNOWN_ACTOR",
        "Actor",
        "ActorType",
        "AuditEvent",
        "EventKind",
        "Scope",
        "Source",
        "canonical_json",
        "event_id",
        "format_time",
        "parse_time",
    ),
    "pipeledger.event_check": ("EARLIEST", "LATEST"),
    "pipeledger.ledger.quarantine": ("Holding", "QuarantinedRecord", "quarantine_values"),
    # Errors.
    "pipeledger.errors": (
        "AwaitingApproval",
        "LedgerNotFound",
        "MalformedResponse",
        "PermissionDenied",
        "PipeledgerError",
        "PlatformError",
        "SinkError",
        "UsageError",
    ),
    # HTTP: the API client of an adapter and the batching client of an HTTP sink.
    "pipeledger.http.client": (
        "ApiClient",
        "ApiResponse",
        "RateLimitHeaders",
        "RetryPolicy",
        "environment_session",
        "parse_link_header",
    ),
    "pipeledger.http.origin": ("foreign_url",),
    "pipeledger.http.sink": (
        "KEPT_IN_LEDGER",
        "BatchLimits",
        "Hints",
        "HttpSinkClient",
        "Reply",
        "batched",
    ),
    # Progress reporting.
    "pipeledger.collect.progress": ("Progress", "ProgressRelay", "SilentProgress"),
    # The snapshot model: who can reach what and what guards it.
    "pipeledger.snapshots": (
        "Grant",
        "Protection",
        "Snapshot",
        "diff_snapshots",
        "snapshot_key",
        "snapshot_state",
    ),
    # What a forge's roles and protection settings mean (each adapter declares its own).
    "pipeledger.access_terms": ("AccessTerms",),
    # Secrets, redaction and printing.
    "pipeledger.held_secrets": ("hold",),
    "pipeledger.redact": ("redact_url",),
    "pipeledger.printable": ("one_line",),
    "pipeledger.docs_links": ("docs_url",),
    # Output formats of the records a sink sends.
    "pipeledger.formats": ("RecordSchema", "checkpoint_document", "render", "render_json"),
    # Webhook receivers.
    "pipeledger.serve.receiver": (
        "Delivery",
        "Handling",
        "LedgerAccess",
        "MalformedDelivery",
        "Receiver",
        "ReceiverSettings",
        "RedeliveryRequest",
        "RedeliverySummary",
        "Route",
        "Unauthorized",
        "delivery_headers",
    ),
    # The hash chain, for a ledger store.
    "pipeledger.ledger.sql": ("event_conditions",),
    "pipeledger.ledger.chain": (
        "GENESIS_HASH",
        "INDEXED_COLUMNS",
        "NewRow",
        "checkpoint_from_row",
        "new_rows",
        "record_from_row",
        "unique_by_id",
    ),
    # The deployment gate, for an adapter that runs it from a webhook.
    "pipeledger.policy.engine": ("Evaluation",),
    "pipeledger.policy.gate_decision": (
        "Decision",
        "decision_event",
        "evaluate_evidence",
        "job_from_run",
        "run_event",
    ),
    "pipeledger.policy.loader": ("LoadedPolicy", "load_policy"),
    "pipeledger.policy.model": ("FailOn",),
}
_HOME = {name: module for module, names in _NAMES_BY_MODULE.items() for name in names}

__all__ = [
    "EARLIEST",
    "GENESIS_HASH",
    "INDEXED_COLUMNS",
    "KEPT_IN_LEDGER",
    "LATEST",
    "UNKNOWN_ACTOR",
    "AccessTerms",
    "Actor",
    "ActorType",
    "Adapter",
    "AdapterSettings",
    "ApiClient",
    "ApiResponse",
    "AuditEvent",
    "AwaitingApproval",
    "Batch",
    "BatchLimits",
    "ChainCheckpoint",
    "CiJob",
    "CollectRequest",
    "CollectScope",
    "CursorReader",
    "Decision",
    "Delivery",
    "DemoScenario",
    "EnvironmentOption",
    "Evaluation",
    "EventFilter",
    "EventKind",
    "FailOn",
    "GateEvidence",
    "GateSource",
    "Grant",
    "Handling",
    "Hints",
    "Holding",
    "HttpSinkClient",
    "Ledger",
    "LedgerAccess",
    "LedgerNotFound",
    "LedgerRecord",
    "LoadedPolicy",
    "MalformedDelivery",
    "MalformedResponse",
    "NewRow",
    "PermissionDenied",
    "PipeledgerError",
    "PlatformError",
    "Progress",
    "ProgressRelay",
    "Protection",
    "QuarantinedRecord",
    "RateLimitHeaders",
    "Receiver",
    "ReceiverSettings",
    "RecordSchema",
    "RedeliveryRequest",
    "RedeliverySummary",
    "Reply",
    "RequestCounts",
    "RetryPolicy",
    "Route",
    "Scope",
    "ScopeOption",
    "ScopedCollection",
    "SilentProgress",
    "Sink",
    "SinkError",
    "SinkSettings",
    "SinkUrl",
    "Snapshot",
    "Source",
    "StoredBody",
    "StoredRow",
    "Unauthorized",
    "UsageError",
    "batched",
    "canonical_json",
    "checkpoint_document",
    "checkpoint_from_row",
    "decision_event",
    "delivery_headers",
    "diff_snapshots",
    "docs_url",
    "environment_session",
    "evaluate_evidence",
    "event_conditions",
    "event_id",
    "foreign_url",
    "format_time",
    "hold",
    "is_loopback",
    "job_from_run",
    "load_policy",
    "new_rows",
    "one_line",
    "parse_link_header",
    "parse_time",
    "quarantine_values",
    "record_from_row",
    "redact_url",
    "render",
    "render_json",
    "run_event",
    "run_serially",
    "snapshot_key",
    "snapshot_state",
    "unique_by_id",
]


def __getattr__(name: str) -> object:
    """Imports ``name`` from its defining module the first time a plugin asks for it."""
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)

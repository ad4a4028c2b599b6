"""Elasticsearch / OpenSearch sink: ``_bulk`` NDJSON with ``create`` actions whose ``_id`` is
the event id, so a redelivered event answers 409 (already stored) instead of a duplicate.

A 200 answer can still hold failed items: those failing with 429 or 5xx are sent again with
backoff, any other item failure (a mapping error) stops with the item's reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests

from pipeledger.plugin import (
    KEPT_IN_LEDGER,
    BatchLimits,
    ChainCheckpoint,
    Hints,
    HttpSinkClient,
    LedgerRecord,
    RecordSchema,
    RetryPolicy,
    Sink,
    SinkError,
    SinkSettings,
    SinkUrl,
    UsageError,
    batched,
    canonical_json,
    checkpoint_document,
    format_time,
    render,
)

API_KEY_ENV = "PIPELEDGER_ELASTICSEARCH_API_KEY"
OPTIONS = ("index", "checkpoint_index", "pipeline", "format", "batch_size", "max_bytes")
DEFAULT_LIMITS = BatchLimits(count=1000, size=5_000_000)
CEILING = BatchLimits(count=10_000, size=100_000_000)
HINTS = Hints(
    credentials=f"Set {API_KEY_ENV} to an API key (base64 id:key) or put user:password in"
    " the sink URL.",
    permission="The API key or user lacks the create_doc (or write) privilege on the index;"
    " grant it, or choose another index= in the sink URL.",
    not_found="Check the host, port and path of the sink URL.",
)
ALREADY_STORED = 409


@dataclass(frozen=True)
class BulkDocument:
    index: str
    id: str
    body: str  # the document as canonical JSON

    def ndjson(self, pipeline: str | None) -> bytes:
        action: dict[str, Any] = {"_index": self.index, "_id": self.id}
        if pipeline:
            action["pipeline"] = pipeline
        return (canonical_json({"create": action}) + "\n" + self.body + "\n").encode()


class ElasticsearchSink(Sink):
    def __init__(self, *, base: str, display: str, client: HttpSinkClient, parsed: SinkUrl) -> None:
        self._base = base
        self._display = display
        self.client = client
        self._index = parsed.option("index", "pipeledger") or "pipeledger"
        self._checkpoint_index = parsed.option("checkpoint_index") or f"{self._index}-checkpoints"
        self._pipeline = parsed.option("pipeline")
        self._format = RecordSchema.parse(parsed.option("format"))
        self._limits = BatchLimits.from_options(parsed.option_int, DEFAULT_LIMITS, CEILING)

    @classmethod
    def open(
        cls,
        url: str,
        settings: SinkSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> ElasticsearchSink:
        parsed = SinkUrl.parse(url, OPTIONS)
        if parsed.transport not in ("http", "https"):
            raise UsageError(
                f"The sink URL {parsed.display} must start with {parsed.scheme}+https://.",
                f"Write {parsed.scheme}+https://HOST:9200?index=pipeledger.",
            )
        api_key = settings.environ.get(API_KEY_ENV)
        headers = {
            "Content-Type": "application/x-ndjson",
        }
        if api_key:
            headers["Authorization"] = f"ApiKey {api_key}"
        auth = (parsed.username, parsed.password or "") if parsed.username else None
        client = HttpSinkClient(
            parsed.display,
            HINTS,
            headers=headers,
            auth=auth,
            secrets=[s for s in (api_key, parsed.password) if s],
            policy=RetryPolicy.for_sinks(timeout=settings.timeout),
            session=session,
            sleep=sleep,
        )
        base = f"{parsed.transport}://{parsed.netloc}{parsed.path.rstrip('/')}"
        return cls(base=base, display=parsed.display, client=client, parsed=parsed)

    @property
    def display_url(self) -> str:
        return self._display

    def write(self, records: Sequence[LedgerRecord]) -> None:
        documents = (BulkDocument(self._index, r.event.id, self._document(r)) for r in records)
        self._bulk(documents)

    def write_checkpoint(self, checkpoint: ChainCheckpoint) -> None:
        body = {"@timestamp": checkpoint.to_dict()["created_at"], **checkpoint_document(checkpoint)}
        doc_id = f"{checkpoint.seq}-{checkpoint.head_hash}"
        self._bulk([BulkDocument(self._checkpoint_index, doc_id, canonical_json(body))])

    def check(self) -> None:
        """HEAD on the index: authenticates and checks access; a missing index is fine
        (the first write creates it)."""
        self.client.send("HEAD", f"{self._base}/{quote(self._index)}", accept=frozenset({404}))

    def close(self) -> None:
        self.client.close()

    def _document(self, record: LedgerRecord) -> str:
        # Data streams and time-based views need @timestamp.
        stamp = format_time(record.event.occurred_at)
        if self._format is RecordSchema.NATIVE:
            # "@timestamp" sorts before every key of a record: splice it into the stored text.
            return f'{{"@timestamp":"{stamp}",{record.to_json()[1:]}'
        document = render(record, self._format)
        document.setdefault("@timestamp", stamp)
        return canonical_json(document)

    def _bulk(self, documents: Iterable[BulkDocument]) -> None:
        lines = ((document, document.ndjson(self._pipeline)) for document in documents)
        for batch in batched(lines, self._limits, overhead=0):
            self._send_until_stored(batch)

    def _send_until_stored(self, batch: list[tuple[BulkDocument, bytes]]) -> None:
        pending = batch
        attempt = 0
        while pending:
            answer = self._post_bulk(b"".join(line for _, line in pending))
            failed = self._failed_items(answer, [document for document, _ in pending])
            retry = [pending[position] for position in failed]
            if not retry:
                return
            self.client.pause(attempt, f"{len(retry)} documents rejected with 429 or 5xx")
            attempt += 1
            pending = retry

    def _post_bulk(self, body: bytes) -> dict[str, Any]:
        query = f"?{urlencode({'filter_path': 'errors,items.*.status,items.*.error'})}"
        reply = self.client.send("POST", f"{self._base}/_bulk{query}", body=body)
        answer = reply.json()
        if not isinstance(answer, dict) or not isinstance(answer.get("items"), list):
            raise SinkError(
                f"{self._display} answered _bulk with something that is not a bulk response.",
                f"Check that the URL points at Elasticsearch or OpenSearch. {KEPT_IN_LEDGER}",
            )
        return answer

    def _failed_items(self, answer: dict[str, Any], sent: Sequence[BulkDocument]) -> list[int]:
        """Positions worth retrying; raises on an item that will never be accepted."""
        if not answer.get("errors"):
            return []
        items = answer["items"]
        if len(items) != len(sent):
            raise SinkError(
                f"{self._display} answered {len(items)} bulk items for {len(sent)} documents.",
                f"Check that the URL points at Elasticsearch or OpenSearch. {KEPT_IN_LEDGER}",
            )
        retry: list[int] = []
        for position, item in enumerate(items):
            result: dict[str, Any] = next(iter(item.values()), {}) if item else {}
            status = result.get("status")
            if not isinstance(status, int):
                raise _item_error(self._display, sent[position], 0, "the item has no status")
            if status < 300 or status == ALREADY_STORED:
                continue
            if status == 429 or status >= 500:
                retry.append(position)
                continue
            raise _item_error(self._display, sent[position], status, result.get("error"))
        return retry


def _item_error(display: str, document: BulkDocument, status: int, error: Any) -> SinkError:
    if isinstance(error, dict):
        reason = f"{error.get('type', 'error')}: {error.get('reason', 'no reason given')}"
    else:
        reason = str(error or "no reason given")
    return SinkError(
        f"{display} refused document {document.id} in index {document.index} (HTTP {status},"
        f" {reason}).",
        "The index mapping does not accept pipeledger documents: point index= at a new"
        " index, or fix the mapping or ingest pipeline. " + KEPT_IN_LEDGER,
    )

"""Elasticsearch / OpenSearch sink against a local _bulk endpoint with per-item failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeledger.errors import SinkError
from pipeledger.sinks.contract import ChainCheckpoint, SinkSettings
from pipeledger_elasticsearch.sink import ElasticsearchSink
from tests.core.sinks.records import make_records
from tests.fakes.sink_receivers import BulkReceiver, FakeServer

API_KEY = "VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="


@pytest.fixture
def bulk() -> BulkReceiver:
    return BulkReceiver(api_key=API_KEY)


@pytest.fixture
def server(bulk: BulkReceiver):
    with FakeServer(bulk) as fake:
        yield fake


def open_sink(
    server: FakeServer,
    query: str = "",
    key: str = API_KEY,
    sleeps: list[float] | None = None,
    scheme: str = "elasticsearch",
) -> ElasticsearchSink:
    url = f"{scheme}+http://127.0.0.1:{server.port}{query}"
    settings = SinkSettings(environ={"PIPELEDGER_ELASTICSEARCH_API_KEY": key}, timeout=5)
    return ElasticsearchSink.open(
        url, settings, sleep=(sleeps if sleeps is not None else []).append
    )


def test_bulk_creates_with_event_ids(server, bulk):
    records = make_records(3)
    open_sink(server, "?index=audit").write(records)

    request = server.received[0]
    assert request.headers["content-type"] == "application/x-ndjson"
    assert request.headers["authorization"] == f"ApiKey {API_KEY}"
    lines = request.body.decode().splitlines()
    assert json.loads(lines[0]) == {"create": {"_id": records[0].event.id, "_index": "audit"}}
    assert json.loads(lines[1]) == {**records[0].to_dict(), "@timestamp": "2026-03-02T09:31:00Z"}
    assert sorted(doc_id for _, doc_id in bulk.docs) == sorted(r.event.id for r in records)


def test_redelivery_is_exactly_once(server, bulk):
    records = make_records(4)
    sink = open_sink(server)
    sink.write(records[:2])
    sink.write(records)  # the first two answer 409: already stored

    assert len(bulk.docs) == 4
    assert bulk.bulk_requests == 2


def test_only_rejected_items_are_retried(server, bulk):
    records = make_records(5)
    bulk.reject_once = {records[1].event.id, records[3].event.id}
    sleeps: list[float] = []
    open_sink(server, sleeps=sleeps).write(records)

    retried = server.received[1].body.decode().splitlines()
    assert [json.loads(line)["create"]["_id"] for line in retried[::2]] == [
        records[1].event.id,
        records[3].event.id,
    ]
    assert sleeps == [0.5]
    assert len(bulk.docs) == 5


def test_a_mapping_error_names_the_document_and_reason(server, bulk):
    records = make_records(3)
    bulk.mapping_errors = {records[2].event.id}

    with pytest.raises(SinkError) as caught:
        open_sink(server).write(records)

    assert records[2].event.id in caught.value.message
    assert "mapper_parsing_exception" in caught.value.message
    assert "mapping" in caught.value.remedy


def test_bad_api_key_is_a_credentials_error(server):
    with pytest.raises(SinkError) as caught:
        open_sink(server, key="wrong-key-123").write(make_records(1))

    text = caught.value.describe()
    assert "HTTP 401" in text and "PIPELEDGER_ELASTICSEARCH_API_KEY" in text
    assert "wrong-key-123" not in text


def test_basic_auth_from_the_url_is_redacted(server):
    server.protocol = BulkReceiver()
    url = f"opensearch+http://admin:Adm1nPass@127.0.0.1:{server.port}?index=pl"
    sink = ElasticsearchSink.open(url, SinkSettings(environ={}))
    sink.write(make_records(1))

    assert "Adm1nPass" not in sink.display_url
    assert server.received[0].headers["authorization"].startswith("Basic ")


def test_checkpoint_goes_to_its_own_index(server, bulk):
    checkpoint = ChainCheckpoint(
        seq=3, head_hash="ef" * 32, created_at=datetime(2026, 3, 3, tzinfo=UTC)
    )
    sink = open_sink(server, "?index=audit")
    sink.write_checkpoint(checkpoint)
    sink.write_checkpoint(checkpoint)

    assert list(bulk.docs) == [("audit-checkpoints", f"3-{'ef' * 32}")]
    assert bulk.docs[("audit-checkpoints", f"3-{'ef' * 32}")]["pipeledger_checkpoint"]["seq"] == 3


def test_check_accepts_a_missing_index_but_not_bad_credentials(server):
    open_sink(server, "?index=fresh").check()
    assert server.received[0].method == "HEAD"

    with pytest.raises(SinkError, match="HTTP 401"):
        open_sink(server, key="nope-nope").check()


def test_ocsf_documents_keep_ids_and_get_a_timestamp(server, bulk):
    records = make_records(2)
    open_sink(server, "?format=ocsf").write(records)

    doc = bulk.docs[("pipeledger", records[0].event.id)]
    assert doc["metadata"]["uid"] == records[0].event.id
    assert doc["@timestamp"] == "2026-03-02T09:31:00Z"

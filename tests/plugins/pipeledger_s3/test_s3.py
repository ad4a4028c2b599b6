"""S3 sink against moto: content-addressed keys written once, Object Lock retention."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import moto
import pytest

from pipeledger.errors import SinkError, UsageError
from pipeledger.sinks.contract import ChainCheckpoint, SinkSettings
from pipeledger_s3.sink import S3Sink
from tests.core.sinks.records import make_records

ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
    "AWS_DEFAULT_REGION": "us-east-1",
}
NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def s3(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    with moto.mock_aws():
        client = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket="audit-plain")
        client.create_bucket(Bucket="audit-locked", ObjectLockEnabledForBucket=True)
        yield client


def open_sink(url: str) -> S3Sink:
    return S3Sink.open(url, SinkSettings(environ=ENV), clock=lambda: NOW)


def keys(client, bucket: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_one_object_per_batch_with_a_content_hash_key(s3):
    records = make_records(5)
    sink = open_sink("s3://audit-plain/ci/ledger?batch_size=2")
    sink.write(records)

    names = keys(s3, "audit-plain")
    assert len(names) == 3
    assert names[0].startswith("ci/ledger/2026/03/02/000000000001-000000000002-")
    assert names[0].endswith(".jsonl")
    body = s3.get_object(Bucket="audit-plain", Key=names[0])["Body"].read().decode()
    assert [json.loads(line) for line in body.splitlines()] == [r.to_dict() for r in records[:2]]


def test_redelivery_writes_nothing_twice(s3):
    records = make_records(4)
    sink = open_sink("s3://audit-plain/ci")
    sink.write(records)
    versions_before = keys(s3, "audit-plain")
    sink.write(records)

    assert keys(s3, "audit-plain") == versions_before
    assert sink.objects_written == 1


def test_object_lock_retention_is_set(s3):
    sink = open_sink("s3://audit-locked/ci?object_lock=compliance&retain_days=30")
    sink.check()
    sink.write(make_records(2))

    head = s3.head_object(Bucket="audit-locked", Key=keys(s3, "audit-locked")[0])
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert head["ObjectLockRetainUntilDate"] == datetime(2026, 4, 4, 12, 0, tzinfo=UTC)


def test_object_lock_on_a_bucket_without_it_is_explained(s3):
    with pytest.raises(SinkError) as caught:
        open_sink("s3://audit-plain/ci?object_lock=governance&retain_days=1").check()

    assert "ObjectLockConfigurationNotFoundError" in caught.value.message
    assert "Object Lock enabled" in caught.value.remedy


def test_checkpoints_are_their_own_objects(s3):
    checkpoint = ChainCheckpoint(
        seq=12, head_hash="aa" * 32, created_at=NOW, key_id="k", signature="c2ln"
    )
    sink = open_sink("s3://audit-locked/ci?object_lock=governance&retain_days=7")
    sink.write_checkpoint(checkpoint)
    sink.write_checkpoint(checkpoint)

    assert keys(s3, "audit-locked") == ["ci/checkpoints/000000000012.json"]
    stored = json.loads(
        s3.get_object(Bucket="audit-locked", Key="ci/checkpoints/000000000012.json")["Body"].read()
    )
    assert stored == {"pipeledger_checkpoint": checkpoint.to_dict()}


def test_missing_bucket_is_a_sink_error_without_secrets(s3):
    with pytest.raises(SinkError) as caught:
        open_sink("s3://no-such-bucket/x").write(make_records(1))

    assert "NoSuchBucket" in caught.value.message
    assert "testing-secret-key" not in caught.value.describe()


def test_bad_options_are_usage_errors(s3):
    with pytest.raises(UsageError, match="retention"):
        open_sink("s3://audit-locked/x?object_lock=governance")
    with pytest.raises(UsageError, match="lock mode"):
        open_sink("s3://audit-locked/x?object_lock=forever&retain_days=1")


def test_ecs_lines(s3):
    open_sink("s3://audit-plain?format=ecs").write(make_records(1))

    (name,) = keys(s3, "audit-plain")
    assert name.startswith("2026/03/02/")
    line = json.loads(s3.get_object(Bucket="audit-plain", Key=name)["Body"].read())
    assert line["event"]["module"] == "pipeledger"

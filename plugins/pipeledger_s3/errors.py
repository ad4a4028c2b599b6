"""Translates botocore's exceptions into SinkError with what to fix; an object that already
exists under its content-addressed key counts as stored, not as a failure."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pipeledger.plugin import KEPT_IN_LEDGER, SinkError

ALREADY_STORED_CODES = frozenset({"PreconditionFailed", "412"})
CREDENTIAL_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"}
)
REMEDIES = {
    "AccessDenied": "Grant the credentials s3:PutObject (and s3:PutObjectRetention with"
    " object_lock) on the bucket and prefix.",
    "403": "Check the AWS credentials and that they may access this bucket.",
    "NoSuchBucket": "Check the bucket name in s3://BUCKET/prefix.",
    "404": "Check the bucket name in s3://BUCKET/prefix.",
    "ObjectLockConfigurationNotFoundError": "The bucket has no Object Lock; create a bucket"
    " with Object Lock enabled, or drop object_lock from the sink URL.",
    "InvalidRequest": "With object_lock the bucket must have Object Lock enabled.",
    "PermanentRedirect": "The bucket is in another region; add region=REGION to the URL.",
    "AuthorizationHeaderMalformed": "The bucket is in another region; add region=REGION.",
}
CREDENTIALS_REMEDY = (
    "Check the AWS credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or the"
    " instance or workload role)."
)


@dataclass
class PutOutcome:
    already_stored: bool = False


@contextmanager
def translate(display: str, what: str) -> Iterator[PutOutcome]:
    """Run boto3 calls; every botocore failure leaves as a SinkError."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    outcome = PutOutcome()
    try:
        yield outcome
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "unknown"))
        if code in ALREADY_STORED_CODES:
            outcome.already_stored = True
            return
        message = str(error.response.get("Error", {}).get("Message", ""))
        remedy = CREDENTIALS_REMEDY if code in CREDENTIAL_CODES else REMEDIES.get(code, "")
        raise SinkError(
            f"{display}: {what} failed with {code}" + (f" ({message})" if message else "") + ".",
            f"{remedy} {KEPT_IN_LEDGER}".strip(),
        ) from None
    except NoCredentialsError:
        raise SinkError(f"{display}: no AWS credentials found.", CREDENTIALS_REMEDY) from None
    except BotoCoreError as error:
        raise SinkError(
            f"{display}: cannot reach S3 for {what} ({type(error).__name__}).",
            f"Check the network, region= and endpoint= in the sink URL. {KEPT_IN_LEDGER}",
        ) from None

"""GitHub does not retry a failed webhook delivery by itself. This lists the deliveries of an
organization's or repository's hooks, or of the GitHub App's own hook, and asks GitHub to
deliver again each one that failed and was not delivered successfully since."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import requests

from pipeledger.plugin import (
    PermissionDenied,
    PlatformError,
    RedeliveryRequest,
    RedeliverySummary,
    UsageError,
    environment_session,
    parse_link_header,
    parse_time,
)
from pipeledger_github.auth import app_jwt, resolve_endpoint, resolve_token
from pipeledger_github.client import API_VERSION

Json = Mapping[str, Any]


class HookDeliveries:
    def __init__(self, request: RedeliveryRequest) -> None:
        self.request = request
        self.api_url = resolve_endpoint(request.api_url, request.environ).api_url
        bearer = (
            app_jwt(request.environ)
            if request.scope == "app"
            else resolve_token(request.environ, self.api_url)
        )
        self.session = environment_session(self.api_url)
        self.session.headers.update(
            {
                "Authorization": f"Bearer {bearer}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            }
        )

    def hook_paths(self) -> list[str]:
        scope, name = self.request.scope, self.request.name
        if scope == "app":
            return ["/app/hook"]
        base = f"/orgs/{name}" if scope == "org" else f"/repos/{name}"
        return [f"{base}/hooks/{hook['id']}" for hook in self._pages(f"{base}/hooks")]

    def deliveries(self, hook: str) -> Iterator[Json]:
        """Newest first; stops at the first one older than ``since``."""
        for delivery in self._pages(f"{hook}/deliveries"):
            delivered = delivery.get("delivered_at")
            if isinstance(delivered, str) and parse_time(delivered) < self.request.since:
                return
            yield delivery

    def redeliver(self, hook: str, delivery_id: str) -> None:
        self._call("POST", f"{self.api_url}{hook}/deliveries/{delivery_id}/attempts")

    def _pages(self, path: str) -> Iterator[Json]:
        url: str | None = f"{self.api_url}{path}?per_page=100"
        while url:
            answer = self._call("GET", url)
            body = answer.json()
            if not isinstance(body, list):
                raise PlatformError(f"GitHub answered {path} with something that is not a list.")
            yield from (item for item in body if isinstance(item, Mapping))
            url = parse_link_header(answer.headers.get("Link", "")).get("next")

    def _call(self, method: str, url: str) -> requests.Response:
        try:
            answer = self.session.request(method, url, timeout=30)
        except requests.RequestException as error:
            raise PlatformError(
                f"Cannot reach {self.api_url} ({type(error).__name__}).", "Check --api-url."
            ) from None
        if answer.status_code in (401, 403, 404):
            raise PermissionDenied(
                f"GitHub refused {method} {url.removeprefix(self.api_url).split('?')[0]}"
                f" (HTTP {answer.status_code}).",
                _remedy(self.request.scope),
            )
        if answer.status_code >= 300:
            raise PlatformError(f"GitHub answered HTTP {answer.status_code} to {method} {url}.")
        return answer


def _remedy(scope: str) -> str:
    if scope == "app":
        return (
            "Set PIPELEDGER_GITHUB_APP_ID and the App's private key"
            " (PIPELEDGER_GITHUB_APP_PRIVATE_KEY or …_PATH); only the App itself may read its"
            " hook deliveries."
        )
    return (
        "The token needs admin:org_hook (organization hooks) or admin rights on the repository"
        " (repository hooks); a fine-grained token needs 'Webhooks: read and write'."
    )


def failed(deliveries: list[Json]) -> list[Json]:
    """Failed deliveries whose GUID never succeeded in this window (a later successful
    redelivery settles the earlier failure), one per GUID."""
    settled = {d.get("guid") for d in deliveries if _ok(d)}
    chosen: dict[Any, Json] = {}
    for delivery in deliveries:
        guid = delivery.get("guid")
        if not _ok(delivery) and guid not in settled and guid not in chosen:
            chosen[guid] = delivery
    return list(chosen.values())


def _ok(delivery: Json) -> bool:
    code = delivery.get("status_code")
    return isinstance(code, int) and 200 <= code < 300


def redeliver_failed(request: RedeliveryRequest) -> RedeliverySummary:
    if request.scope not in ("org", "repo", "app"):
        raise UsageError(f"Unknown hook scope {request.scope!r}.", "Use --org, --repo or --app.")
    hooks = HookDeliveries(request)
    summary = RedeliverySummary()
    for hook in hooks.hook_paths():
        deliveries = list(hooks.deliveries(hook))
        summary.seen += len(deliveries)
        for delivery in failed(deliveries):
            summary.failed_ids.append(str(delivery.get("guid") or delivery.get("id")))
            if not request.dry_run:
                hooks.redeliver(hook, str(delivery.get("id")))
                summary.asked += 1
    return summary

"""The environment of a GitHub Actions job running ``pipeledger check`` on a push to main,
with the API pointed at a port nothing listens on (the gate stops at its first request)."""

from __future__ import annotations

GITHUB_JOB_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_TOKEN": "ghs_job_token",
    "GITHUB_API_URL": "http://127.0.0.1:9",
    "GITHUB_REPOSITORY": "acme/web",
    "GITHUB_RUN_ID": "1",
    "GITHUB_RUN_ATTEMPT": "1",
    "GITHUB_ACTOR": "octocat",
    "GITHUB_TRIGGERING_ACTOR": "octocat",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_REF_NAME": "main",
    "GITHUB_REF_TYPE": "branch",
    "GITHUB_SHA": "a" * 40,
    "GITHUB_EVENT_NAME": "push",
}

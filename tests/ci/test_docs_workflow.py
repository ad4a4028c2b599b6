"""The Pages workflow builds the site as `make docs` does, publishes it where the CLI's links
point, and grants write access only to the job that deploys."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from pipeledger.docs_links import DOCS_ROOT
from tests.ci.tools import ROOT, _run, load_yaml, triggers, zizmor_binary

WORKFLOW = ROOT / ".github" / "workflows" / "docs.yml"


def _workflow() -> dict[str, Any]:
    document = load_yaml(WORKFLOW)
    assert isinstance(document, dict)
    return document


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def _uses(job: dict[str, Any]) -> list[str]:
    return [str(step["uses"]).split("@")[0] for step in job["steps"] if "uses" in step]


def test_it_publishes_from_main_and_on_demand() -> None:
    on = triggers(_workflow())
    assert on["push"]["branches"] == ["main"]
    assert "docs/**" in on["push"]["paths"]
    assert "mkdocs.yml" in on["push"]["paths"]
    assert "workflow_dispatch" in on


def test_only_the_deploy_job_may_write() -> None:
    workflow = _workflow()
    assert workflow["permissions"] == {}
    jobs = workflow["jobs"]
    assert jobs["build"]["permissions"] == {"contents": "read"}
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert jobs["deploy"]["needs"] == "build"
    assert jobs["deploy"]["environment"]["name"] == "github-pages"


def test_the_build_is_make_docs_and_the_site_lands_where_the_links_point() -> None:
    build = _workflow()["jobs"]["build"]
    assert "make docs" in _runs(build)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "mkdocs build --strict --site-dir site" in makefile
    prefix = urlsplit(DOCS_ROOT).path.strip("/")  # "docs": the site is served under /docs/
    assert f"mv site _site/{prefix}" in _runs(build)
    upload = [s for s in build["steps"] if "upload-pages-artifact" in str(s.get("uses"))]
    assert upload[0]["with"]["path"] == "_site"
    assert _uses(build) == [
        "actions/checkout",
        "actions/setup-python",
        "actions/upload-pages-artifact",
    ]
    assert _uses(_workflow()["jobs"]["deploy"]) == ["actions/deploy-pages"]


def test_zizmor_auditor_persona_finds_nothing() -> None:
    # The regular persona runs over every workflow in test_ci_files; the stricter auditor
    # persona is clean on this one too.
    argv = [str(zizmor_binary()), "--offline", "--no-config", "--no-ignores"]
    result = _run([*argv, "--persona", "auditor", "--format", "json", str(WORKFLOW)])
    assert result.returncode == 0, result.output
    assert json.loads(result.stdout or "[]") == []

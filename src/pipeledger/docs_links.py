"""Links into the documentation site that findings and error remedies print.

The site (https://pipeledger.dev/docs/) is built by MkDocs from ``docs/``: the page
``docs/policies/require-approval.md`` is ``…/docs/policies/require-approval/`` and a heading's
anchor is its MkDocs id. tests/test_docs_site.py builds the site and checks every link made here.
"""

from __future__ import annotations

DOCS_ROOT = "https://pipeledger.dev/docs/"


def docs_url(page: str = "", anchor: str | None = None) -> str:
    """The URL of a page, named by its path under ``docs/`` without ``.md`` (an ``index.md``
    by its folder), and optionally one of its headings' anchors."""
    path = f"{page.strip('/')}/" if page.strip("/") else ""
    return DOCS_ROOT + path + (f"#{anchor}" if anchor else "")


def rule_docs_url(rule_type: str) -> str:
    """Each built-in rule type has its own page under ``docs/policies/``."""
    return docs_url(f"policies/{rule_type}")


def detector_docs_url(detector: str) -> str:
    """Each anomaly detector has its own section of ``docs/anomalies.md``."""
    return docs_url("anomalies", detector)

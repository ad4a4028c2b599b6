"""``pipeledger demo`` (what ``make demo`` runs): every platform's recorded responses through
the real adapters into one verified ledger, and the baseline policy's verdict on it."""

from __future__ import annotations

from tests.e2e.github_expect import run_cli


def test_the_demo_collects_both_forges_verifies_and_audits() -> None:
    code, out, err = run_cli(["demo"], {})
    assert code == 0, err
    assert "github: collected" in out
    assert "gitlab: collected" in out
    assert "hash chain verified" in out
    assert "Who deployed what where" in out
    assert "diaspora/diaspora-client" in out  # GitLab's documented example project
    assert "What the SOC 2 baseline policy" in out
    assert "pipeledger collect --platform github" in out
    assert "pipeledger collect --platform gitlab" in out

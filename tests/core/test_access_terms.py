"""What the core does with a platform's access terms: rank roles, rank a change of each kind
of protection setting, and find the terms a plugin registers (none for a platform whose
plugin declares none)."""

from __future__ import annotations

import ast
from importlib.metadata import EntryPoint

import pytest

from pipeledger import registry
from pipeledger.access_terms import NO_TERMS, AccessTerms
from pipeledger.errors import UsageError
from tests.paths import ROOT

CORE = ROOT / "src" / "pipeledger"

TERMS = AccessTerms(
    role_ranks={"viewer": 1, "editor": 4, "boss": 7},
    more_is_stronger=frozenset({"approvals"}),
    true_is_stronger=frozenset({"signed_commits"}),
    true_is_weaker=frozenset({"force_push"}),
    fewer_is_weaker=frozenset({"reviewers", "approvers"}),
    more_is_weaker=frozenset({"pushers"}),
    open_values={"deploy_from": "anywhere"},
    rule_prefix="rule:",
)


def test_roles_rank_by_the_terms_in_any_case_and_unknown_roles_rank_lowest() -> None:
    assert TERMS.role_rank("Boss") > TERMS.role_rank("editor") > TERMS.role_rank("viewer")
    assert TERMS.role_rank("stranger") == TERMS.role_rank(None) == 0
    assert NO_TERMS.role_rank("admin") == NO_TERMS.role_rank("read") == 0


@pytest.mark.parametrize(
    ("setting", "old", "new", "verdict"),
    [
        ("approvals", 2, 0, "weakened"),
        ("approvals", None, 1, "strengthened"),
        ("signed_commits", True, False, "weakened"),
        ("force_push", False, True, "weakened"),
        ("force_push", True, False, "strengthened"),
        # who must approve: anyone gone is weaker, even when someone else joined
        ("reviewers", ["a", "b"], ["b", "c"], "weakened"),
        ("reviewers", ["a"], ["a", "b"], "strengthened"),
        ("reviewers", ["a"], ["a"], "changed"),
        ("approvers", {"a": 2}, {"a": 1}, "weakened"),
        ("approvers", {"a": 1}, {"a": 1, "b": 1}, "strengthened"),
        ("approvers", {"a": 1}, {"b": 2}, "changed"),
        # who may get through: one more is weaker, none at all (absent) lets anyone
        ("pushers", ["a"], ["a", "b"], "weakened"),
        ("pushers", ["a", "b"], ["a"], "strengthened"),
        ("pushers", ["a"], ["b"], "changed"),
        ("pushers", ["a"], None, "weakened"),
        ("pushers", None, ["a"], "strengthened"),
        ("deploy_from", "main", "anywhere", "weakened"),
        ("deploy_from", "anywhere", "main", "strengthened"),
        ("deploy_from", "main", "release", "changed"),
        ("rule:deletion", True, None, "weakened"),
        ("rule:deployments", None, {"envs": ["prod"]}, "strengthened"),
        ("rule:update", {"a": 1}, {"a": 2}, "changed"),
        ("colour", "red", "blue", "changed"),
    ],
)
def test_a_setting_change_is_ranked_by_its_kind(
    setting: str, old: object, new: object, verdict: str
) -> None:
    assert TERMS.setting_change(setting, old, new) == verdict


def test_terms_know_only_their_own_settings() -> None:
    assert TERMS.known_setting_change("colour", "red", "blue") is None
    assert NO_TERMS.known_setting_change("approvals", 2, 0) is None
    assert NO_TERMS.known_setting_change("rule:deletion", True, None) is None
    assert TERMS.ranks_as_a_whole("approvers") and not TERMS.ranks_as_a_whole("pushers")
    assert TERMS.open_when_absent("pushers") and not TERMS.open_when_absent("reviewers")


def test_the_registry_gives_each_platform_the_terms_its_plugin_registers() -> None:
    github, gitlab = registry.load_access_terms("github"), registry.load_access_terms("gitlab")
    assert github is not gitlab
    assert github.role_rank("maintain") > github.role_rank("write")
    assert gitlab.role_rank("maintainer") > gitlab.role_rank("developer")
    assert registry.load_access_terms("no-such-forge") is NO_TERMS


def test_a_plugin_registering_something_else_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = EntryPoint("oddforge", "pipeledger.access_terms:NO_TERMS.role_ranks", "x")

    def entries(group: str) -> list[EntryPoint]:
        return [wrong] if group == registry.ACCESS_TERMS_GROUP else []

    monkeypatch.setattr(registry, "entry_points", entries)
    registry.load_access_terms.cache_clear()
    try:
        with pytest.raises(UsageError, match="access terms of 'oddforge' is not AccessTerms"):
            registry.load_access_terms("oddforge")
    finally:
        registry.load_access_terms.cache_clear()


def test_the_core_names_no_setting_a_platform_declares() -> None:
    """Which way a forge's protection setting guards is the plugin's word: no string in the
    core's code names a setting of the registered terms."""
    declared: set[str] = set()
    for platform in ("github", "gitlab"):
        terms = registry.load_access_terms(platform)
        declared |= (
            terms.more_is_stronger
            | terms.true_is_stronger
            | terms.true_is_weaker
            | terms.fewer_is_weaker
            | terms.more_is_weaker
            | terms.approver_settings
            | set(terms.open_values)
        )
    assert len(declared) > 20
    named = {
        (path.relative_to(CORE).as_posix(), node.value)
        for path in CORE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and node.value in declared
    }
    assert named == set()


def test_a_platform_without_terms_has_no_approver_lists_and_ranks_no_role() -> None:
    assert NO_TERMS.approver_settings == frozenset() and not NO_TERMS.approvers_by_id
    assert NO_TERMS.setting_change("required_reviewers", ["user:a"], []) == "changed"

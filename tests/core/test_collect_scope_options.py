"""What ``collect`` collects is named in each platform's words, declared by its adapter
(``Adapter.scope_options``): the core knows no ``--org`` or ``--group``. Likewise the options
that set a variable of the environment an adapter reads (``Adapter.environment_options``:
``--gitlab-config`` sets ``PYTHON_GITLAB_CFG``)."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

from pipeledger import registry
from pipeledger.cli.collect_cmd import build_request
from pipeledger.cli.main import build_parser, main
from pipeledger.collect.adapter import Adapter, AdapterSettings, EnvironmentOption, ScopeOption
from pipeledger.config import resolve
from pipeledger.errors import UsageError

THIS = __name__


class SpaceAdapter(Adapter):
    """A third party's forge, with scopes of its own."""

    platform = "spaces"
    scope_options = (
        ScopeOption("--space", "owners", "KEY", "every repository of this space"),
        ScopeOption("--repo", "repositories", "KEY/NAME", "one repository"),  # shares GitHub's
    )
    environment_options = (
        EnvironmentOption("--spaces-config", "SPACES_CONFIG", "FILE", "the spaces CLI's file"),
    )

    @classmethod
    def create(cls, settings: AdapterSettings) -> Adapter:
        """Says what its environment holds, so a test sees what collect handed it."""
        raise UsageError(f"spaces read SPACES_CONFIG={settings.environ.get('SPACES_CONFIG')}.")

    def collect(self, *args: object) -> Iterator[object]:  # type: ignore[override]
        raise NotImplementedError


@pytest.fixture
def with_spaces(monkeypatch: pytest.MonkeyPatch) -> None:
    real = registry.entry_points

    def entries(group: str) -> list[EntryPoint]:
        found = list(real(group=group))
        if group == registry.ADAPTER_GROUP:
            found += [
                EntryPoint("spaces", f"{THIS}:SpaceAdapter", group),
                EntryPoint("broken", "no_such_module_anywhere:Adapter", group),
            ]
        return found

    monkeypatch.setattr(registry, "entry_points", entries)


def collect_args(argv: list[str], environ: dict[str, str] | None = None) -> argparse.Namespace:
    root, defaults = build_parser(["collect"])
    args = root.parse_args(["collect", *argv])
    return resolve(args, defaults["collect"], environ or {}, {})


def run(argv: list[str], environ: dict[str, str] | None = None) -> tuple[int, str]:
    err = io.StringIO()
    code = main(["collect", *argv], environ=environ or {}, stdout=io.StringIO(), stderr=err)
    return code, err.getvalue()


def collect_help() -> str:
    out = io.StringIO()
    assert main(["collect", "--help"], environ={}, stdout=out, stderr=io.StringIO()) == 0
    return out.getvalue()


def test_each_adapter_declares_its_scope_options() -> None:
    text = collect_help()
    github = text.index("With --platform github:")
    gitlab = text.index("With --platform gitlab:")
    assert github < text.index("  --org ORG", github) < text.index("  --repo OWNER/NAME", github)
    assert text.index("  --repo OWNER/NAME", github) < gitlab
    assert gitlab < text.index("  --group PATH", gitlab) < text.index("  --project PATH", gitlab)


def test_gitlab_declares_its_configuration_options_in_its_group() -> None:
    text = collect_help()
    gitlab = text.index("With --platform gitlab:")
    config = text.index("  --gitlab-config FILE", gitlab)
    section = text.index("  --gitlab-section NAME", gitlab)
    assert text.index("  --project PATH", gitlab) < config < section < text.index("API:", gitlab)
    said = " ".join(text[config:section].split())
    assert "wins over python-gitlab's PYTHON_GITLAB_CFG (env PIPELEDGER_GITLAB_CONFIG)" in said
    assert "(env PIPELEDGER_GITLAB_SECTION)" in text[section : text.index("API:", gitlab)]


def test_the_chosen_platforms_options_make_the_request() -> None:
    args = collect_args(
        ["--platform", "gitlab", "--group", "a", "--project", "b/c", "--group", "d"]
    )
    request = build_request(args, registry.load_adapter("gitlab"))
    assert request.owners == ("a", "d")
    assert request.repositories == ("b/c",)


def test_environment_twins_count_as_given() -> None:
    args = collect_args(["--platform", "github"], {"PIPELEDGER_ORG": "acme, octo"})
    assert build_request(args, registry.load_adapter("github")).owners == ("acme", "octo")


@pytest.mark.parametrize(
    ("argv", "environ", "said"),
    [
        (["--platform", "github", "--group", "g"], {}, "--group names what to collect on gitlab"),
        (["--platform", "gitlab", "--org", "o"], {}, "--org names what to collect on github"),
        (["--platform", "github"], {"PIPELEDGER_PROJECT": "a/b"}, "PIPELEDGER_PROJECT"),
        (["--platform", "gitlab"], {}, "Name what to collect on gitlab: --group PATH"),
    ],
)
def test_another_platforms_scopes_or_none_is_a_usage_error(
    argv: list[str], environ: dict[str, str], said: str
) -> None:
    code, err = run(argv, environ)
    assert code == 2
    assert said in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["--gitlab-config", "/etc/python-gitlab.cfg"], {}),
        (["--gitlab-section", "work"], {"PIPELEDGER_GITLAB_SECTION": "home"}),
    ],
)
def test_gitlabs_configuration_options_are_refused_for_github(
    argv: list[str], environ: dict[str, str]
) -> None:
    code, err = run(["--platform", "github", "--org", "acme", *argv], environ)
    assert code == 2
    assert f"{argv[0]} is an option of --platform gitlab, not github." in err
    assert "Traceback" not in err


def test_an_environment_options_variable_exported_for_another_platform_is_left_alone() -> None:
    """PIPELEDGER_GITLAB_SECTION, exported for GitLab runs, is no mistake on a GitHub run:
    GitHub's adapter runs (and asks for its token), as with PYTHON_GITLAB_CFG set."""
    environ = {"PIPELEDGER_GITLAB_SECTION": "work", "PIPELEDGER_GITLAB_CONFIG": "/no/such.cfg"}
    code, err = run(["--platform", "github", "--org", "acme"], environ)
    assert code == 2
    assert "GITHUB_TOKEN" in err and "gitlab" not in err.lower()


@pytest.mark.usefixtures("with_spaces")
def test_an_environment_option_sets_the_adapters_variable_over_the_environments() -> None:
    code, err = run(["--platform", "spaces", "--space", "K"], {"SPACES_CONFIG": "mine.cfg"})
    assert code == 2 and "spaces read SPACES_CONFIG=mine.cfg." in err
    argv = ["--platform", "spaces", "--space", "K", "--spaces-config", "given.cfg"]
    code, err = run(argv, {"SPACES_CONFIG": "mine.cfg"})
    assert code == 2 and "spaces read SPACES_CONFIG=given.cfg." in err
    code, err = run(["--platform", "spaces", "--space", "K"], {"PIPELEDGER_SPACES_CONFIG": "t.cfg"})
    assert code == 2 and "spaces read SPACES_CONFIG=t.cfg." in err
    code, err = run(["--platform", "gitlab", "--group", "g", "--spaces-config", "given.cfg"])
    assert code == 2 and "--spaces-config is an option of --platform spaces, not gitlab." in err


@pytest.mark.usefixtures("with_spaces")
def test_a_third_party_adapter_brings_its_own_and_shares_a_flag() -> None:
    args = collect_args(["--platform", "spaces", "--space", "K", "--repo", "K/web"])
    request = build_request(args, registry.load_adapter("spaces"))
    assert (request.owners, request.repositories) == (("K",), ("K/web",))
    code, err = run(["--platform", "spaces", "--org", "acme"])
    assert code == 2 and "--org names what to collect on github, not on spaces" in err


@pytest.mark.usefixtures("with_spaces")
def test_an_adapter_that_cannot_be_imported_offers_no_options_until_chosen() -> None:
    text = collect_help()
    assert "--space KEY" in text and "--platform broken" not in text
    code, err = run(["--platform", "broken", "--org", "acme"])
    assert code == 2
    assert "could not be imported" in err and "no_such_module_anywhere" in err


@pytest.mark.usefixtures("with_spaces")
def test_concurrency_help_gives_each_adapters_own_default() -> None:
    from pipeledger_github.adapter import ENTERPRISE_CONCURRENCY
    from pipeledger_gitlab.adapter import DEFAULT_CONCURRENCY

    text = collect_help()
    start = text.index("  --concurrency N")
    said = " ".join(text[start : text.index("  --", start + 5)].split())
    assert (
        f"(default: github: 1 on github.com, {ENTERPRISE_CONCURRENCY} on GitHub Enterprise"
        f" Server; gitlab: {DEFAULT_CONCURRENCY}; spaces: 1; env PIPELEDGER_CONCURRENCY)"
    ) in said

"""What ``collect`` collects is named in each platform's words, declared by its adapter
(``Adapter.scope_options``): the core knows no ``--org`` or ``--group``."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from importlib.metadata import EntryPoint

import pytest

from pipeledger import registry
from pipeledger.cli.collect_cmd import build_request
from pipeledger.cli.main import build_parser, main
from pipeledger.collect.adapter import Adapter, AdapterSettings, ScopeOption
from pipeledger.config import resolve

THIS = __name__


class SpaceAdapter(Adapter):
    """A third party's forge, with scopes of its own."""

    platform = "spaces"
    scope_options = (
        ScopeOption("--space", "owners", "KEY", "every repository of this space"),
        ScopeOption("--repo", "repositories", "KEY/NAME", "one repository"),  # shares GitHub's
    )

    @classmethod
    def create(cls, settings: AdapterSettings) -> Adapter:
        raise NotImplementedError

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
    github = text.index("What to collect with --platform github:")
    gitlab = text.index("What to collect with --platform gitlab:")
    assert github < text.index("  --org ORG", github) < text.index("  --repo OWNER/NAME", github)
    assert text.index("  --repo OWNER/NAME", github) < gitlab
    assert gitlab < text.index("  --group PATH", gitlab) < text.index("  --project PATH", gitlab)


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

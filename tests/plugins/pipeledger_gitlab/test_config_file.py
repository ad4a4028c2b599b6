"""A python-gitlab configuration file stands in for GITLAB_TOKEN: its section's url is the
instance, its token authenticates (sent only to that instance), python-gitlab's own parser
reads it (sections, [global] default, helper: commands). Against the fake GitLab on
127.0.0.1."""

from __future__ import annotations

import io
import shlex
import sys
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from pipeledger.plugin import RetryPolicy
from pipeledger_gitlab.client import Credentials, GitLabClient
from tests.fakes.gitlab_api import DEFAULT_TOKEN, FakeGitLab
from tests.fakes.gitlab_generate import generate_group
from tests.plugins.pipeledger_gitlab.helpers import Run, collect, ledger_events, records

pytestmark = pytest.mark.e2e


def config(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "python-gitlab.cfg"
    path.write_text(body, encoding="utf-8")
    return path


def base_url(fake: FakeGitLab) -> str:
    return fake.api_url.removesuffix("/api/v4")


def section(url: str, token_line: str) -> str:
    """A file whose default section ``[w]`` is ``url`` with ``token_line``."""
    return f"[global]\ndefault = w\n\n[w]\nurl = {url}\n{token_line}\n"


def collect_with(db: Path, env: dict[str, str], *args: str) -> Run:
    out, err = io.StringIO(), io.StringIO()
    argv = ["collect", "--platform", "gitlab", "--sink", f"sqlite:///{db}", "--group", "acme"]
    code = main([*argv, *args], env, out, err)
    return Run(code, out.getvalue(), err.getvalue())


@pytest.mark.parametrize("field", ["private_token", "oauth_token"])
def test_a_section_of_the_named_file_collects_what_gitlab_token_would(
    fake: FakeGitLab, tmp_path: Path, field: str
) -> None:
    cfg = config(
        tmp_path,
        f"[global]\ndefault = work\n\n[work]\nurl = {base_url(fake)}\n{field} = {DEFAULT_TOKEN}\n",
    )
    run = collect_with(tmp_path / "cfg.db", {"PYTHON_GITLAB_CFG": str(cfg)})
    assert run.code == 0, run.err
    assert collect(fake, tmp_path / "env.db", "--group", "acme").code == 0
    got = ledger_events(tmp_path / "cfg.db")
    assert records(got) == records(ledger_events(tmp_path / "env.db"))
    assert len(got) > 10
    assert DEFAULT_TOKEN not in run.out + run.err


def test_the_users_file_in_home_and_a_chosen_section(fake: FakeGitLab, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".python-gitlab.cfg").write_text(
        "[global]\ndefault = other\n\n"
        "[other]\nurl = https://gitlab.invalid\nprivate_token = not-this-one\n\n"
        f"[fake]\nurl = {base_url(fake)}\nprivate_token = {DEFAULT_TOKEN}\n",
        encoding="utf-8",
    )
    env = {"HOME": str(home), "PIPELEDGER_GITLAB_SECTION": "fake"}
    run = collect_with(tmp_path / "l.db", env)
    assert run.code == 0, run.err
    assert ledger_events(tmp_path / "l.db")


def test_a_helper_command_gives_the_token(fake: FakeGitLab, tmp_path: Path) -> None:
    secret = tmp_path / "token.txt"
    secret.write_text(DEFAULT_TOKEN + "\n", encoding="utf-8")
    helper = shlex.join([sys.executable, "-c", f"print(open({str(secret)!r}).read().strip())"])
    cfg = config(
        tmp_path,
        f"[global]\ndefault = w\n[w]\nurl = {base_url(fake)}\nprivate_token = helper: {helper}\n",
    )
    run = collect_with(tmp_path / "l.db", {"PYTHON_GITLAB_CFG": str(cfg)})
    assert run.code == 0, run.err


def test_gitlab_token_wins_over_the_file(fake: FakeGitLab, tmp_path: Path) -> None:
    cfg = config(
        tmp_path, f"[global]\ndefault = w\n[w]\nurl = {base_url(fake)}\nprivate_token = stale\n"
    )
    env = {"PYTHON_GITLAB_CFG": str(cfg), "GITLAB_TOKEN": DEFAULT_TOKEN}
    run = collect_with(tmp_path / "l.db", env, "--api-url", fake.api_url)
    assert run.code == 0, run.err


def test_a_rejected_token_names_its_section_and_is_never_printed(
    fake: FakeGitLab, tmp_path: Path
) -> None:
    secret = "glpat-from-the-file-but-wrong"
    cfg = config(
        tmp_path, f"[global]\ndefault = w\n[w]\nurl = {base_url(fake)}\nprivate_token = {secret}\n"
    )
    run = collect_with(tmp_path / "l.db", {"PYTHON_GITLAB_CFG": str(cfg)})
    assert run.code == 3
    assert f"rejected the private_token of [w] in {cfg}" in run.err
    assert secret not in run.out + run.err


def test_another_instance_in_api_url_gets_no_token(fake: FakeGitLab, tmp_path: Path) -> None:
    cfg = config(
        tmp_path,
        f"[global]\ndefault = w\n[w]\nurl = {base_url(fake)}\nprivate_token = {DEFAULT_TOKEN}\n",
    )
    env = {"PYTHON_GITLAB_CFG": str(cfg)}
    run = collect_with(tmp_path / "l.db", env, "--api-url", "http://localhost:9/api/v4")
    assert run.code == 2
    assert "is not the instance of the private_token of [w]" in run.err
    assert fake.requests == 0
    assert DEFAULT_TOKEN not in run.err


@pytest.mark.parametrize(
    ("body", "env", "said"),
    [
        ("[w]\nurl = https://gitlab.example.com\nprivate_token = t\n", {}, "cannot be used"),
        ("[global]\ndefault = w\n[w]\nurl = https://gitlab.example.com\n", {}, "has no token"),
        (
            "[global]\ndefault = w\n[w]\nurl = https://gitlab.example.com\n"
            "http_username = me\nhttp_password = pw\n",
            {},
            "user name and password",
        ),
        (
            "[global]\ndefault = w\n[w]\nurl = https://gitlab.example.com\nprivate_token = t\n",
            {"PIPELEDGER_GITLAB_SECTION": "nope"},
            "no config section found",
        ),
        (
            "[global]\ndefault = w\n[w]\nurl = x\nprivate_token = helper: /no/such/helper\n",
            {},
            "cannot be used",
        ),
        (section("gitlab.example.com", "private_token = t"), {}, "is not an http(s) URL"),
    ],
)
def test_a_configuration_that_cannot_be_used_is_a_usage_error(
    tmp_path: Path, body: str, env: dict[str, str], said: str
) -> None:
    cfg = config(tmp_path, body)
    run = collect_with(tmp_path / "l.db", {"PYTHON_GITLAB_CFG": str(cfg), **env})
    assert run.code == 2
    assert said in run.err and str(cfg) in run.err
    assert "Traceback" not in run.err


def test_a_named_file_that_is_missing_is_a_usage_error(tmp_path: Path) -> None:
    run = collect_with(tmp_path / "l.db", {"PYTHON_GITLAB_CFG": str(tmp_path / "none.cfg")})
    assert run.code == 2
    assert "PYTHON_GITLAB_CFG" in run.err and "names no file" in run.err


def test_gitlab_config_and_section_choose_the_file_and_its_token(
    fake: FakeGitLab, tmp_path: Path
) -> None:
    """--gitlab-config wins over PYTHON_GITLAB_CFG, --gitlab-section over [global] default:
    only the token of the chosen section reaches GitLab, and only its instance is asked."""
    fake.token = "glpat-of-the-chosen-section"
    with FakeGitLab(generate_group(), token="glpat-of-the-environment") as decoy:
        environment_file = config(
            tmp_path, section(base_url(decoy), "private_token = glpat-of-the-environment")
        )
        chosen = tmp_path / "chosen.cfg"
        chosen.write_text(
            f"{section(base_url(decoy), 'private_token = glpat-of-the-default')}\n"
            f"[fake]\nurl = {base_url(fake)}\nprivate_token = {fake.token}\n",
            encoding="utf-8",
        )
        env = {"PYTHON_GITLAB_CFG": str(environment_file)}
        options = ("--gitlab-config", str(chosen), "--gitlab-section", "fake")
        run = collect_with(tmp_path / "l.db", env, *options)
        assert run.code == 0, run.err
        assert len(ledger_events(tmp_path / "l.db")) > 10
        assert fake.requests > 0 and decoy.requests == 0
    assert fake.token not in run.out + run.err


@pytest.mark.parametrize("twin", ["environment", "pipeledger.yml"])
def test_the_options_twins_choose_the_file_too(fake: FakeGitLab, tmp_path: Path, twin: str) -> None:
    cfg = config(
        tmp_path,
        section("https://gitlab.invalid", "private_token = not-this-one")
        + f"\n[fake]\nurl = {base_url(fake)}\nprivate_token = {DEFAULT_TOKEN}\n",
    )
    env = {"PIPELEDGER_GITLAB_CONFIG": str(cfg), "PIPELEDGER_GITLAB_SECTION": "fake"}
    if twin == "pipeledger.yml":
        settings = tmp_path / "pipeledger.yml"
        settings.write_text(f"gitlab-config: {cfg}\ngitlab_section: fake\n", encoding="utf-8")
        env = {"PIPELEDGER_CONFIG": str(settings)}
    run = collect_with(tmp_path / "l.db", env)
    assert run.code == 0, run.err


def test_gitlab_token_still_wins_over_gitlab_config(fake: FakeGitLab, tmp_path: Path) -> None:
    cfg = config(tmp_path, section(base_url(fake), "private_token = stale"))
    env = {"GITLAB_TOKEN": DEFAULT_TOKEN}
    run = collect_with(
        tmp_path / "l.db", env, "--api-url", fake.api_url, "--gitlab-config", str(cfg)
    )
    assert run.code == 0, run.err


def test_a_gitlab_config_that_is_missing_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "none.cfg"
    present = config(tmp_path, section("https://gitlab.example.com", "private_token = glpat-x"))
    env = {"PYTHON_GITLAB_CFG": str(present)}
    run = collect_with(tmp_path / "l.db", env, "--gitlab-config", str(missing))
    assert run.code == 2
    assert f"--gitlab-config / PYTHON_GITLAB_CFG {str(missing)!r} names no file" in run.err
    assert "glpat-x" not in run.err and "Traceback" not in run.err


def test_gitlab_section_names_a_section_the_file_lacks(tmp_path: Path) -> None:
    cfg = config(tmp_path, section("https://gitlab.example.com", "private_token = glpat-x"))
    run = collect_with(
        tmp_path / "l.db", {}, "--gitlab-config", str(cfg), "--gitlab-section", "nope"
    )
    assert run.code == 2
    assert "no config section found" in run.err and str(cfg) in run.err
    assert "--gitlab-section" in run.err and "glpat-x" not in run.err


def test_ssl_verify_of_the_section_checks_the_instances_certificate(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    for verify in (False, str(ca)):
        credentials = Credentials("the private_token of [w]", "PRIVATE-TOKEN", "t", verify)
        client = GitLabClient("https://gitlab.example.com/api/v4", credentials, RetryPolicy())
        assert client._api._session.verify == verify

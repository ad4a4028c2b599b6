"""A python-gitlab configuration, for those who already keep one: the file that
``collect --gitlab-config`` or ``PYTHON_GITLAB_CFG`` names, else ``/etc/python-gitlab.cfg`` and
``~/.python-gitlab.cfg``, read by python-gitlab's own parser (its ``[global] default`` section,
or the one ``--gitlab-section`` or ``PIPELEDGER_GITLAB_SECTION`` names; ``helper:`` commands
run as python-gitlab runs them). The options reach this module as the variables they set
(``GitLabAdapter.environment_options``).

The section's ``url`` is the GitLab instance, its ``private_token``, ``oauth_token`` or
``job_token`` the credentials (sent, like any token here, only to that instance) and its
``ssl_verify`` (``false`` or a CA bundle's path) how the instance's certificate is checked.
It is used only when neither ``GITLAB_TOKEN`` nor ``CI_JOB_TOKEN`` is set. The token is held
by the core's HTTP client, which python-gitlab's requests go through (:mod:`.transport`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeledger.plugin import UsageError, hold, one_line
from pipeledger_gitlab.client import BEARER, JOB_TOKEN_HEADER, PRIVATE_TOKEN_HEADER, Credentials

CONFIG_VARIABLE = "PYTHON_GITLAB_CFG"
SECTION_VARIABLE = "PIPELEDGER_GITLAB_SECTION"
# collect's options that set them (GitLabAdapter.environment_options).
CONFIG_OPTION = "--gitlab-config"
SECTION_OPTION = "--gitlab-section"
SYSTEM_FILE = "/etc/python-gitlab.cfg"
USER_FILE = ".python-gitlab.cfg"
# How each kind of token in a section is sent.
_TOKEN_HEADERS = (
    ("private_token", PRIVATE_TOKEN_HEADER, "{}"),
    ("oauth_token", BEARER, "Bearer {}"),
    ("job_token", JOB_TOKEN_HEADER, "{}"),
)


@dataclass(frozen=True)
class ConfigFileAccess:
    """What a python-gitlab section says: where GitLab is and how to authenticate (the
    credentials name their source, "the private_token of [section] in FILE")."""

    url: str  # the section's url, as written
    api_url: str
    section: str  # "[section] in FILE", for messages
    credentials: Credentials


def config_files(environ: Mapping[str, str]) -> list[str]:
    """The files python-gitlab would read: the one PYTHON_GITLAB_CFG (or --gitlab-config)
    names (it must exist), else those of the system and the user that exist."""
    named = environ.get(CONFIG_VARIABLE, "").strip()
    if named:
        if not Path(named).is_file():
            raise UsageError(
                f"{CONFIG_OPTION} / {CONFIG_VARIABLE} {named!r} names no file.",
                f"Give {CONFIG_OPTION} (or {CONFIG_VARIABLE}) the path of your python-gitlab"
                f" configuration, or leave both unset ({SYSTEM_FILE} and ~/{USER_FILE} are read).",
            )
        return [named]
    home = environ.get("HOME", "").strip()
    candidates = [SYSTEM_FILE, *([str(Path(home) / USER_FILE)] if home else [])]
    return [path for path in candidates if Path(path).is_file()]


def access_from_config(environ: Mapping[str, str]) -> ConfigFileAccess | None:
    """The chosen section's instance and token; None when there is no configuration file."""
    files = config_files(environ)
    if not files:
        return None
    from gitlab import config as python_gitlab

    section = environ.get(SECTION_VARIABLE, "").strip() or None
    where = ", ".join(files)
    try:
        parsed = python_gitlab.GitlabConfigParser(gitlab_id=section, config_files=files)
    except (python_gitlab.ConfigError, OSError) as error:  # OSError: a helper that won't run
        raise UsageError(
            f"The python-gitlab configuration in {where} cannot be used: {one_line(str(error))}.",
            f"Fix it (name its section with {SECTION_OPTION}, {SECTION_VARIABLE} or"
            " [global] default), or set GITLAB_TOKEN instead.",
        ) from None
    name = parsed.gitlab_id or "?"
    if parsed.http_username:
        raise UsageError(
            f"Section [{name}] of {where} authenticates with a user name and password.",
            "pipeledger sends tokens only: give the section a private_token or oauth_token"
            " with the read_api scope, or set GITLAB_TOKEN.",
        )
    for field, header, form in _TOKEN_HEADERS:
        token = getattr(parsed, field, None)
        if isinstance(token, str) and token.strip():
            hold(token.strip())
            url = str(parsed.url).strip()
            return ConfigFileAccess(
                url=url,
                api_url=f"{url.rstrip('/')}/api/v{parsed.api_version}",
                section=f"[{name}] in {where}",
                credentials=Credentials(
                    f"the {field} of [{name}] in {where}",
                    header,
                    form.format(token.strip()),
                    parsed.ssl_verify,
                ),
            )
    raise UsageError(
        f"Section [{name}] of {where} has no token.",
        "Add a private_token (or oauth_token) with the read_api scope, or set GITLAB_TOKEN.",
    )

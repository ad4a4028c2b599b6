from __future__ import annotations

import argparse
import ast
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from pipeledger.config import load_config_file, resolve
from pipeledger.errors import ConfigError, UsageError
from pipeledger.redact import SecretMasker, redact_url
from pipeledger.registry import load_sink, sink_scheme
from pipeledger.timeutil import parse_when
from tests.paths import ROOT

DEFAULTS = {"platform": None, "sink": [], "max_wait": 900.0}


def test_flag_beats_environment_beats_file_beats_default() -> None:
    args = argparse.Namespace(platform="gitlab", sink=None, max_wait=None)
    environ = {"PIPELEDGER_PLATFORM": "github", "PIPELEDGER_SINK": "- jsonl:///a.jsonl"}
    resolve(args, DEFAULTS, environ, {"platform": "x", "sink": ["y"], "max_wait": 5.0})
    assert args.platform == "gitlab"
    assert args.sink == ["-", "jsonl:///a.jsonl"]
    assert args.max_wait == 5.0
    bare = resolve(argparse.Namespace(platform=None, sink=None, max_wait=None), DEFAULTS, {}, {})
    assert (bare.platform, bare.sink, bare.max_wait) == (None, [], 900.0)


def test_a_non_numeric_environment_value_is_a_config_error() -> None:
    args = argparse.Namespace(platform=None, sink=None, max_wait=None)
    with pytest.raises(ConfigError, match="PIPELEDGER_MAX_WAIT"):
        resolve(args, DEFAULTS, {"PIPELEDGER_MAX_WAIT": "soon"}, {})


def test_config_file_is_validated_with_its_schema(tmp_path: Path) -> None:
    good = tmp_path / "good.yml"
    good.write_text("platform: github\nmax-wait: 60\nsink: [sqlite:///x.db]\n")
    assert load_config_file(str(good), {}) == {
        "platform": "github",
        "max_wait": 60,
        "sink": ["sqlite:///x.db"],
    }
    bad = tmp_path / "bad.yml"
    bad.write_text("platform: github\nmax-wait: soon\n")
    with pytest.raises(ConfigError, match="/max-wait"):
        load_config_file(str(bad), {})
    broken = tmp_path / "broken.yml"
    broken.write_text("platform: [github\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config_file(str(broken), {})
    with pytest.raises(ConfigError, match="does not exist"):
        load_config_file(str(tmp_path / "missing.yml"), {})


def test_when_accepts_times_dates_and_durations() -> None:
    now = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
    assert parse_when("7d", now) == datetime(2026, 5, 3, 12, 0, tzinfo=UTC)
    assert parse_when("12h", now) == datetime(2026, 5, 10, 0, 0, tzinfo=UTC)
    assert parse_when("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_when("2026-05-01T10:00:00+02:00") == datetime(2026, 5, 1, 8, tzinfo=UTC)
    with pytest.raises(UsageError) as caught:
        parse_when("last tuesday")
    assert "7d, 12h" in caught.value.describe()


def test_sink_urls_map_to_schemes() -> None:
    assert sink_scheme("-") == "stdout"
    assert sink_scheme("splunk+https://h:8088") == "splunk"
    assert load_sink("sqlite:///x.db").__name__ == "SqliteSink"
    with pytest.raises(UsageError, match="not a URL"):
        sink_scheme("ledger.db")
    with pytest.raises(UsageError, match="No plugin provides the sink scheme 'ftp'"):
        load_sink("ftp://host/x")


def test_secrets_are_masked_and_urls_redacted() -> None:
    masker = SecretMasker.from_environ({"GITHUB_TOKEN": "ghp_abcdef123", "HOME": "/root"})
    assert masker.mask("token ghp_abcdef123 in /root") == "token *** in /root"
    assert (
        redact_url("postgresql://app:hunter2@db:5432/audit") == "postgresql://app:***@db:5432/audit"
    )
    assert "s3cr3t" not in redact_url("https://h.test/hook?token=s3cr3t&x=1")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


FORBIDDEN_IN_CORE = ("pipeledger_", "github", "gitlab", "psycopg", "boto3", "botocore")


@pytest.mark.parametrize(
    "path", sorted((ROOT / "src" / "pipeledger").rglob("*.py")), ids=lambda p: p.name
)
def test_the_core_imports_no_plugin_and_no_platform_client(path: Path) -> None:
    offenders = {name for name in _imports(path) if name.startswith(FORBIDDEN_IN_CORE)}
    assert offenders == set()


def test_cli_usage_errors_exit_2_with_a_remedy() -> None:
    err = io.StringIO()
    code = main(
        ["collect", "--platform", "nope", "--repo", "a/b"],
        environ={},
        stdout=io.StringIO(),
        stderr=err,
    )
    assert code == 2
    assert "Available:" in err.getvalue()
    err = io.StringIO()
    assert main(["events", "--kind", "push"], environ={}, stdout=io.StringIO(), stderr=err) == 2
    assert "pipeline.run" in err.getvalue()
    err = io.StringIO()
    assert main(["verify", "--bogus"], environ={}, stdout=io.StringIO(), stderr=err) == 2
    assert "Traceback" not in err.getvalue()


def test_the_bundled_baseline_is_the_documented_example() -> None:
    bundled = ROOT / "src" / "pipeledger" / "policy" / "baseline.yml"
    assert bundled.read_text() == (ROOT / "examples" / "policies" / "baseline.yml").read_text()


def test_a_plugin_whose_package_is_missing_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import EntryPoint

    from pipeledger import registry

    broken = EntryPoint(
        name="vault", value="pipeledger_vault_missing.sink:VaultSink", group=registry.SINK_GROUP
    )
    monkeypatch.setattr(registry, "entry_points", lambda group: [broken])
    with pytest.raises(UsageError) as caught:
        registry.load_sink("vault://secrets")
    text = caught.value.describe()
    assert "'pipeledger_vault_missing' is missing" in text
    assert "pip install pipeledger_vault_missing" in text

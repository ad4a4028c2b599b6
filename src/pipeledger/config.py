"""Where each setting comes from, decided in this one place.

Precedence: command-line flag > ``PIPELEDGER_*`` environment variable > config file
(``pipeledger.yml``) > defaults. CI ambient variables (``GITHUB_API_URL``, ``CI_API_V4_URL`` …)
are read by the plugin that owns them, below all of these.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipeledger.errors import ConfigError
from pipeledger.schema_fast import schema_errors
from pipeledger.yaml_limits import YamlLimitExceeded
from pipeledger.yaml_limits import safe_load as limited_safe_load

DEFAULT_CONFIG_FILE = "pipeledger.yml"


def env_name(dest: str) -> str:
    return "PIPELEDGER_" + dest.upper()


def resolve(
    namespace: argparse.Namespace,
    defaults: Mapping[str, Any],
    environ: Mapping[str, str],
    file_values: Mapping[str, Any],
) -> argparse.Namespace:
    """Fill every option left unset on the command line, in precedence order."""
    for dest, default in defaults.items():
        if getattr(namespace, dest, None) is not None:
            continue
        value = _from_environ(dest, default, environ)
        if value is None:
            value = file_values.get(dest)
        setattr(namespace, dest, default if value is None else value)
    return namespace


def _from_environ(dest: str, default: Any, environ: Mapping[str, str]) -> Any:
    raw = environ.get(env_name(dest))
    if raw is None or raw == "":
        return None
    if isinstance(default, list):
        return [item for item in raw.replace("\n", " ").replace(",", " ").split() if item]
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int | float):
        try:
            return type(default)(raw)
        except ValueError:
            raise ConfigError(
                f"{env_name(dest)}={raw!r} is not a number.", "Set it to a number."
            ) from None
    return raw


def load_config_file(path: str | None, environ: Mapping[str, str]) -> dict[str, Any]:
    """The config file's options (dashes become underscores); {} when there is none."""
    explicit = path or environ.get("PIPELEDGER_CONFIG")
    candidate = Path(explicit or DEFAULT_CONFIG_FILE)
    if not candidate.exists():
        if explicit:
            raise ConfigError(f"The config file {candidate} does not exist.", "Fix --config.")
        return {}
    try:
        data = limited_safe_load(candidate.read_text(encoding="utf-8"))
    except YamlLimitExceeded as error:
        raise ConfigError(
            f"The config file {candidate} line {error.line}, column {error.column}:"
            f" {error.problem}.",
            "A config file needs only a few plain keys; remove the anchors, aliases or"
            " nesting there.",
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise ConfigError(
            f"The config file {candidate}{where} is not valid YAML.",
            "Fix the syntax; see schemas/config.v1.schema.json for the keys.",
        ) from None
    data = data or {}
    _validate(candidate, data)
    return {str(key).replace("-", "_"): value for key, value in data.items()}


def _validate(path: Path, data: Any) -> None:
    errors = schema_errors(data, json.loads(schema_text("config.v1.schema.json")))
    if errors:
        from jsonschema.exceptions import best_match

        error = best_match(errors)
        pointer = "/" + "/".join(str(part) for part in error.absolute_path)
        raise ConfigError(
            f"The config file {path} is invalid at {pointer}: {error.message}.",
            "See schemas/config.v1.schema.json for the allowed keys and values.",
        )


def schema_text(name: str) -> str:
    """A bundled JSON schema: from the installed package, or the source tree's schemas/."""
    packaged = resources.files("pipeledger").joinpath("schemas", name)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parents[2] / "schemas" / name
    return source_tree.read_text(encoding="utf-8")

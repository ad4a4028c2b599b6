"""``pipeledger report`` and ``report verify`` end to end on a real SQLite ledger: a changed
byte in any file, a removed or added file, a wrong key and a foreign ledger all exit 4 naming
the cause; bad options exit 2 saying what to fix."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from pipeledger.ledger.signing import SIGNING_KEY_ENV, signer_from_environ
from tests.core.report.history import pack_history, run_cli, write_ledger


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    root = tmp_path_factory.mktemp("report")
    code, _, err = run_cli(["keygen", "--out", str(root / "key")])
    assert code == 0, err
    code, _, err = run_cli(["keygen", "--out", str(root / "other")])
    assert code == 0, err
    # The ledger's head is checkpointed and signed with the same key, as collect does.
    signer = signer_from_environ({SIGNING_KEY_ENV: str(root / "key.key")})
    url = write_ledger(root / "ledger.db", pack_history(), signer)
    pack = root / "pack"
    code, out, err = run_cli(
        ["report", "--period", "2026-03", "--out", str(pack), "--sink", url, "--seed", "1"],
        {"PIPELEDGER_SIGNING_KEY": str(root / "key.key")},
    )
    assert code == 0, err
    assert "deployment evidence pages, sample seed 1; signed by key" in out
    return {"root": root, "url": url, "pack": pack, "key": str(root / "key.pub")}


def _copy(built: dict[str, Path | str], tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(built["pack"], copy)
    return copy


def _verify(folder: Path, *extra: str) -> tuple[int, str, str]:
    return run_cli(["report", "verify", str(folder), *extra])


def _pack_files(built: dict[str, Path | str]) -> list[str]:
    pack = Path(built["pack"])
    return sorted(p.relative_to(pack).as_posix() for p in pack.rglob("*") if p.is_file())


def test_an_untouched_pack_verifies_with_key_and_ledger(built: dict[str, Path | str]) -> None:
    code, out, err = _verify(
        Path(built["pack"]), "--public-key", str(built["key"]), "--sink", str(built["url"])
    )
    assert code == 0, err
    assert "files match the manifest; signature by key" in out
    head = len(pack_history())
    assert f"verified; the ledger holds its head seq {head} and checkpoint seq {head}." in out


def test_the_manifest_names_what_the_pack_was_built_from(built: dict[str, Path | str]) -> None:
    manifest = json.loads((Path(built["pack"]) / "manifest.json").read_text())
    head = len(pack_history())
    assert manifest["ledger"]["head"]["seq"] == head
    checkpoint = manifest["ledger"]["checkpoint"]
    assert checkpoint["seq"] == head
    assert checkpoint["head_hash"] == manifest["ledger"]["head"]["hash"]
    assert checkpoint["signature"]
    assert checkpoint["key_id"] == manifest["signature"]["key_id"]
    assert manifest["tool"]["name"] == "pipeledger"
    assert manifest["tool"]["version"]
    assert manifest["period"] == {
        "label": "2026-03",
        "start": "2026-03-01T00:00:00Z",
        "end": "2026-04-01T00:00:00Z",
    }
    assert manifest["sampling"] == {"seed": 1, "size": 25}


def _ledger_copy(built: dict[str, Path | str], tmp_path: Path, *statements: str) -> str:
    db = tmp_path / "copy.db"
    shutil.copy(Path(built["root"]) / "ledger.db", db)
    connection = sqlite3.connect(db)
    for statement in statements:
        connection.execute(statement)
    connection.commit()
    connection.close()
    return f"sqlite:///{db}"


def test_a_ledger_cut_back_since_the_pack_fails(
    built: dict[str, Path | str], tmp_path: Path
) -> None:
    head = len(pack_history())
    cut = _ledger_copy(
        built, tmp_path, "DROP TRIGGER events_no_delete", f"DELETE FROM events WHERE seq = {head}"
    )
    code, _, err = _verify(Path(built["pack"]), "--sink", cut)
    assert code == 4
    assert f"has no record seq {head} with hash" in err


def test_a_ledger_without_the_named_checkpoint_fails(
    built: dict[str, Path | str], tmp_path: Path
) -> None:
    stripped = _ledger_copy(
        built,
        tmp_path,
        "DROP TRIGGER chain_checkpoints_no_delete",
        "DELETE FROM chain_checkpoints",
    )
    code, _, err = _verify(Path(built["pack"]), "--sink", stripped)
    assert code == 4
    assert f"holds no checkpoint at seq {len(pack_history())} as the pack names" in err


def test_verify_against_a_missing_ledger_exits_2(
    built: dict[str, Path | str], tmp_path: Path
) -> None:
    missing = tmp_path / "gone.db"
    code, _, err = _verify(Path(built["pack"]), "--sink", f"sqlite:///{missing}")
    assert code == 2
    assert "no ledger at" in err
    assert not missing.exists()


def test_without_a_key_the_signature_is_not_claimed(built: dict[str, Path | str]) -> None:
    code, out, _ = _verify(Path(built["pack"]))
    assert code == 0
    assert "not checked (pass --public-key)" in out


def test_a_changed_byte_in_any_file_fails(built: dict[str, Path | str], tmp_path: Path) -> None:
    names = _pack_files(built)
    assert {"index.html", "data.json", "manifest.json", "deployments.csv"} <= set(names)
    for name in names:
        copy = tmp_path / name.replace("/", "_")
        shutil.copytree(built["pack"], copy)
        target = copy / name
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
        code, _, err = _verify(copy, "--public-key", str(built["key"]))
        assert code == 4, name
        expected = "manifest" if name == "manifest.json" else name
        assert expected in err, (name, err)


def test_a_removed_file_is_named(built: dict[str, Path | str], tmp_path: Path) -> None:
    copy = _copy(built, tmp_path)
    page = next(name for name in _pack_files(built) if name.startswith("deployments/"))
    (copy / page).unlink()
    code, _, err = _verify(copy)
    assert code == 4
    assert f"{page} is listed in the manifest but missing" in err


def test_an_added_file_is_named(built: dict[str, Path | str], tmp_path: Path) -> None:
    copy = _copy(built, tmp_path)
    (copy / "deployments" / "extra.html").write_text("<p>trust me</p>", encoding="utf-8")
    code, _, err = _verify(copy)
    assert code == 4
    assert "deployments/extra.html is not listed in the manifest" in err


def test_a_missing_manifest_is_named(built: dict[str, Path | str], tmp_path: Path) -> None:
    copy = _copy(built, tmp_path)
    (copy / "manifest.json").unlink()
    code, _, err = _verify(copy)
    assert code == 4
    assert "manifest.json is missing" in err


def test_a_wrong_key_fails(built: dict[str, Path | str]) -> None:
    other = Path(built["root"]) / "other.pub"
    code, _, err = _verify(Path(built["pack"]), "--public-key", str(other))
    assert code == 4
    assert "not by the given key" in err


def test_a_re_signed_manifest_with_edited_hashes_fails_on_the_real_key(
    built: dict[str, Path | str], tmp_path: Path
) -> None:
    copy = _copy(built, tmp_path)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["period"]["label"] = "2026-02"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = _verify(copy, "--public-key", str(built["key"]))
    assert code == 4
    assert "does not verify" in err


def test_a_pack_from_another_ledger_fails_against_this_one(
    built: dict[str, Path | str], tmp_path: Path
) -> None:
    other = write_ledger(tmp_path / "other.db", pack_history())
    code, _, err = _verify(Path(built["pack"]), "--sink", other)
    assert code == 4
    assert "the pack was built from chain" in err


def test_an_unsigned_draft_says_so_and_fails_with_a_key(
    built: dict[str, Path | str], tmp_path: Path
) -> None:
    draft = tmp_path / "draft"
    code, out, err = run_cli(
        ["report", "--period", "2026-03", "--out", str(draft), "--sink", str(built["url"]),
         "--unsigned"]
    )  # fmt: skip
    assert code == 0
    assert "UNSIGNED draft" in out
    assert "warning: the pack is not signed" in err
    assert "DRAFT: this pack is not signed" in (draft / "index.html").read_text()
    code, _, err = _verify(draft, "--public-key", str(built["key"]))
    assert code == 4
    assert "is not signed" in err


def test_a_tampered_ledger_gets_no_pack(built: dict[str, Path | str], tmp_path: Path) -> None:
    db = tmp_path / "tampered.db"
    shutil.copy(Path(built["root"]) / "ledger.db", db)
    connection = sqlite3.connect(db)
    connection.execute("DROP TRIGGER events_no_update")
    connection.execute("UPDATE events SET body = replace(body, 'carol', 'erin') WHERE seq = 1")
    connection.commit()
    connection.close()
    out_dir = tmp_path / "pack"
    code, _, err = run_cli(
        ["report", "--period", "2026-03", "--out", str(out_dir), "--sink", f"sqlite:///{db}",
         "--unsigned"]
    )  # fmt: skip
    assert code == 4
    assert "fails verification at record seq" in err
    assert not (out_dir / "manifest.json").exists()


@pytest.mark.parametrize(
    ("argv", "environ", "message"),
    [
        (["--out", "x"], {}, "needs --period and --out"),
        (["--period", "2026-03", "--out", "{tmp}/p"], {}, "no signing key is set"),
        (["--period", "2026-13", "--out", "{tmp}/p", "--unsigned"], {}, "--period '2026-13'"),
        (["--period", "2026-03", "--out", "{tmp}", "--unsigned"], {}, "is not an empty folder"),
        (["--period", "2026-03", "--out", "{tmp}/p", "--unsigned", "--working-hours", "9-5"],
         {}, "--working-hours '9-5'"),
        (["--period", "2026-03", "--out", "{tmp}/p", "--unsigned", "--timezone", "Mars/Base"],
         {}, "--timezone 'Mars/Base'"),
        (["--period", "2026-03", "--out", "{tmp}/p", "--unsigned", "--controls", "{tmp}/c.yml"],
         {}, "cannot be used: entry 1 lacks evidence"),
        (["--period", "2026-03", "--out", "{tmp}/p"],
         {"PIPELEDGER_SIGNING_KEY": "-----BEGIN PRIVATE KEY-----\nnot a key\n"},
         "is not an unencrypted PEM private key"),
    ],
)  # fmt: skip
def test_bad_options_exit_2_with_a_remedy(
    built: dict[str, Path | str],
    tmp_path: Path,
    argv: list[str],
    environ: dict[str, str],
    message: str,
) -> None:
    (tmp_path / "c.yml").write_text(
        "controls:\n  - {framework: X, control: Y, title: Z}\n", encoding="utf-8"
    )
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    code, out, err = run_cli(["report", *args, "--sink", str(built["url"])], environ)
    assert code == 2, err
    assert message in err
    assert "Traceback" not in err
    assert "not a key" not in err + out


def _sink(built: dict[str, Path | str], tmp_path: Path, which: str) -> str:
    if which == "missing":
        return f"sqlite:///{tmp_path / 'nowhere.db'}"
    if which == "junk":
        (tmp_path / "junk.db").write_bytes(b"this is not a database, " * 100)
        return f"sqlite:///{tmp_path / 'junk.db'}"
    return str(built["url"])


@pytest.mark.parametrize(
    ("sink", "argv", "code", "messages"),
    [
        ("missing", ["--unsigned"], 2, ["no ledger at"]),
        ("junk", ["--unsigned"], 3, ["Cannot open the SQLite ledger"]),
        # The ledger's own range is named, so the user can pick a period inside it.
        ("ledger", ["--unsigned", "--period", "2024-Q1"], 2,
         ["holds no events in 2024-Q1", "from 2026-02-27T10:00:00Z to 2026-04-01T00:30:00Z"]),
        ("ledger", ["--unsigned", "--environment", "prodution"], 2,
         ["--environment 'prodution'", "deployments to production, staging"]),
        # The value may be key material: the message names the setting, not its value.
        ("ledger", ["--signing-key", "{tmp}/missing.key"], 2,
         ["PIPELEDGER_SIGNING_KEY cannot be read: No such file or directory"]),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_anything_is_written(
    built: dict[str, Path | str],
    tmp_path: Path,
    sink: str,
    argv: list[str],
    code: int,
    messages: list[str],
) -> None:
    out_dir = tmp_path / "p"
    args = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--period" not in args:
        args += ["--period", "2026-03"]
    got, out, err = run_cli(
        ["report", *args, "--out", str(out_dir), "--sink", _sink(built, tmp_path, sink)]
    )
    assert got == code, err
    for message in messages:
        assert message in err
    assert "Traceback" not in err
    assert out == ""
    assert not out_dir.exists()
    assert not (tmp_path / "nowhere.db").exists()


def test_environment_keeps_only_its_deployments(
    built: dict[str, Path | str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "staging"
    code, _, err = run_cli(
        ["report", "--period", "2026-03", "--out", str(out_dir), "--unsigned",
         "--environment", "Staging", "--seed", "1", "--sink", str(built["url"])]
    )  # fmt: skip
    assert code == 0, err
    data = json.loads((out_dir / "data.json").read_text())
    # Only api#11 went to staging in March; DORA then counts staging as production.
    assert data["environment"] == "Staging"
    assert [d["key"] for d in data["deployments"]] == ["acme/api#11"]
    assert data["summary"]["by_environment"] == {"staging": 1}
    assert [s["key"] for s in data["sample"]["deployments"]] == ["acme/api#11"]
    assert data["dora"]["settings"]["production_environments"] == ["Staging"]
    assert data["dora"]["overall"]["deployment_frequency"]["deployments"] == 1
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["environment"] == "Staging"
    assert "— Staging" in (out_dir / "index.html").read_text()


def test_an_edited_control_mapping_is_used_and_shipped(
    built: dict[str, Path | str], tmp_path: Path
) -> None:
    controls = tmp_path / "controls.yml"
    controls.write_text(
        "controls:\n"
        "  - framework: ACME change standard\n"
        "    control: CHG-7\n"
        "    title: Every release is approved by a second engineer.\n"
        "    sections: [approvals]\n"
        "    evidence: [Approval coverage]\n",
        encoding="utf-8",
    )
    out_dir = tmp_path / "pack"
    code, _, err = run_cli(
        ["report", "--period", "2026-03", "--out", str(out_dir), "--unsigned",
         "--controls", str(controls), "--sink", str(built["url"])]
    )  # fmt: skip
    assert code == 0, err
    assert (out_dir / "controls.yml").read_bytes() == controls.read_bytes()
    data = json.loads((out_dir / "data.json").read_text())
    assert [(c["framework"], c["control"]) for c in data["controls"]["entries"]] == [
        ("ACME change standard", "CHG-7")
    ]
    index = (out_dir / "index.html").read_text()
    assert "Every release is approved by a second engineer." in index
    assert "CC8.1" not in index

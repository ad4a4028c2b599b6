"""``pipeledger report`` and ``report verify`` end to end on a real SQLite ledger: a changed
byte in any file, a removed or added file, a wrong key and a foreign ledger all exit 4 naming
the cause; bad options exit 2 saying what to fix."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.report.history import pack_history, run_cli, write_ledger


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path | str]:
    root = tmp_path_factory.mktemp("report")
    url = write_ledger(root / "ledger.db", pack_history())
    code, _, err = run_cli(["keygen", "--out", str(root / "key")])
    assert code == 0, err
    code, _, err = run_cli(["keygen", "--out", str(root / "other")])
    assert code == 0, err
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
    assert "verified; the ledger holds its head seq" in out


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

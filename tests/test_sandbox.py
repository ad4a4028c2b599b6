"""The test-session sandbox (tests/sandbox.py) fires: a test that opens a file outside the
repository, or talks to anything but loopback, fails — even when the code swallows the error
or the access happens in another thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from tests.conftest import SANDBOX
from tests.paths import FIXTURES, ROOT, fixture
from tests.sandbox import ARTIFACTS_ENV, Sandbox, SandboxViolation

BESIDE_THE_REPOSITORY = ROOT.parent / "a-sibling-checkout" / "payloads" / "MANIFEST.md"
TEST_NET = ("192.0.2.1", 9)  # RFC 5737 documentation address: never routed


def test_fixtures_resolve_inside_the_repository() -> None:
    path = fixture("github", "SOURCE.md")
    assert path.is_relative_to(FIXTURES) and FIXTURES.is_relative_to(ROOT)
    with pytest.raises(FileNotFoundError, match="copy the official payload"):
        fixture("github", "no-such-example.json")


def test_what_a_test_may_open(tmp_path: Path) -> None:
    assert SANDBOX.path_problem(ROOT / "pyproject.toml") is None
    assert SANDBOX.path_problem(tmp_path / "ledger.db") is None
    assert SANDBOX.path_problem(sysconfig.get_paths()["stdlib"] + "/json/__init__.py") is None
    assert SANDBOX.path_problem("/etc/ssl/certs/ca-certificates.crt") is None
    assert SANDBOX.path_problem("/dev/null") is None
    assert SANDBOX.path_problem(3) is None  # a file descriptor
    problem = SANDBOX.path_problem(BESIDE_THE_REPOSITORY)
    assert problem is not None and "beside the repository" in problem
    assert SANDBOX.path_problem("/etc/shadow") is not None
    assert SANDBOX.path_problem(os.path.expanduser("~/.aws/credentials")) is not None


def test_the_artifacts_folder_named_by_ci_may_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = "/srv/pipeledger-source/test-artifacts/evidence-pack-summary.png"
    assert Sandbox(ROOT).path_problem(outside) is not None
    monkeypatch.setenv(ARTIFACTS_ENV, "/srv/pipeledger-source/test-artifacts")
    assert Sandbox(ROOT).path_problem(outside) is None
    assert Sandbox(ROOT).path_problem("/srv/pipeledger-source/secrets.txt") is not None


def test_a_symlink_out_of_the_repository_is_outside(tmp_path: Path) -> None:
    link = tmp_path / "looks-temporary"
    link.symlink_to("/etc/shadow")
    assert SANDBOX.path_problem(link) is not None


def test_where_a_test_may_connect() -> None:
    assert SANDBOX.address_problem(socket.AF_INET, ("127.0.0.1", 5432)) is None
    assert SANDBOX.address_problem(socket.AF_INET6, ("::1", 8080, 0, 0)) is None
    assert SANDBOX.address_problem(socket.AF_UNIX, "/var/run/postgresql/.s.PGSQL.5432") is None
    assert SANDBOX.address_problem(socket.AF_INET, TEST_NET) is not None
    assert SANDBOX.address_problem(socket.AF_INET6, ("2001:db8::1", 443, 0, 0)) is not None
    assert SANDBOX.address_problem(socket.AF_UNIX, "/var/run/docker.sock") is not None
    assert SANDBOX.host_problem("localhost") is None
    assert SANDBOX.host_problem("api.github.com") is not None


def test_opening_a_file_beside_the_repository_raises_and_is_recorded() -> None:
    with pytest.raises(SandboxViolation, match="beside the repository"):
        BESIDE_THE_REPOSITORY.read_text(encoding="utf-8")
    assert [p for p in SANDBOX.take() if str(BESIDE_THE_REPOSITORY) in p]  # and forgiven here


def test_connecting_off_the_machine_raises_before_any_packet() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(SandboxViolation, match=r"127\.0\.0\.1 or ::1"):
            sock.connect(TEST_NET)
    with pytest.raises(SandboxViolation, match="looked up the host"):
        socket.getaddrinfo("api.github.com", 443)
    assert len(SANDBOX.take()) == 2


INNER_TESTS = """
import socket
import threading
from pathlib import Path

OUTSIDE = Path({outside!r})


def test_swallowed_open_outside():
    try:
        OUTSIDE.read_text()
    except Exception:
        pass


def test_open_outside_in_a_thread():
    thread = threading.Thread(target=lambda: OUTSIDE.exists() or OUTSIDE.open())
    thread.start()
    thread.join()


def test_swallowed_connection_off_the_machine():
    try:
        socket.create_connection(("192.0.2.1", 9), timeout=0.1)
    except Exception:
        pass


def test_loopback_and_temporary_files_are_fine(tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    with server, socket.create_connection(server.getsockname()):
        pass
    (tmp_path / "x").write_text("ok")
"""


def test_a_breach_fails_the_test_that_made_it(tmp_path: Path) -> None:
    """A whole pytest session with this conftest: swallowed or threaded, a breach still fails."""
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_runtest_call, pytest_runtest_setup, "
        "pytest_runtest_teardown\n"
    )
    outside = str(ROOT.parent / "pipeledger-sandbox-probe.txt")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(INNER_TESTS.format(outside=outside)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 1, out + done.stderr
    assert "FAILED test_inner.py::test_swallowed_open_outside" in out
    assert "FAILED test_inner.py::test_open_outside_in_a_thread" in out
    assert "FAILED test_inner.py::test_swallowed_connection_off_the_machine" in out
    assert "PASSED test_inner.py::test_loopback_and_temporary_files_are_fine" in out
    assert "the test sandbox was breached" in out and "pipeledger-sandbox-probe.txt" in out


def test_what_a_test_may_write(tmp_path: Path) -> None:
    assert SANDBOX.write_problem(tmp_path / "ledger.db") is None
    assert SANDBOX.write_problem(ROOT / "tests" / "__pycache__" / "x.pyc") is None
    assert SANDBOX.write_problem(ROOT / ".pytest_cache" / "v" / "lastfailed") is None
    assert SANDBOX.write_problem(ROOT / ".hypothesis" / "examples" / "x") is None
    assert SANDBOX.write_problem(ROOT / "test-artifacts" / "pack.png") is None
    assert SANDBOX.write_problem(":memory:") is None
    for inside in (
        ROOT / "tmp" / "pytest-of-root" / "pytest-1" / "copy.jsonl",
        ROOT / "ledger.db",
        ROOT / "tests" / "fixtures" / "new.json",
        f"file:{ROOT / 'x.db'}?mode=rwc",
    ):
        problem = SANDBOX.write_problem(inside)
        assert problem is not None and "tmp_path" in problem, inside


def test_a_write_into_the_repository_fails_the_test_in_a_subprocess(tmp_path: Path) -> None:
    """Writing a file, making a directory and opening an SQLite database under the repository
    are all refused; the same under tmp_path is fine."""
    script = textwrap.dedent(
        f"""
        import os, sqlite3, sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        from tests.sandbox import ARTIFACTS_ENV, Sandbox, SandboxViolation, install
        sandbox = install(Path({str(ROOT)!r}))
        target = Path({str(ROOT)!r}) / "tmp-sandbox-probe"
        refused = 0
        for attempt in (
            lambda: open(target / "x.txt", "w"),
            lambda: os.mkdir(target),
            lambda: sqlite3.connect(str(target) + ".db"),
        ):
            try:
                attempt()
            except SandboxViolation:
                refused += 1
        open({str(tmp_path / "fine.txt")!r}, "w").close()
        sqlite3.connect({str(tmp_path / "fine.db")!r}).close()
        print(refused, len(sandbox.take()))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "3"]
    assert not (ROOT / "tmp-sandbox-probe").exists()
    assert not (ROOT / "tmp-sandbox-probe.db").exists()
    assert (tmp_path / "fine.db").exists()


def test_tmp_path_is_outside_the_repository(tmp_path: Path) -> None:
    assert ROOT.resolve() not in tmp_path.resolve().parents


def test_a_tmpdir_inside_the_repository_is_moved_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With TMPDIR pointing into the repository (here: tmp_path standing in for it, with a
    tmp/ folder that exists), the temporary folder moves out of it."""
    import tempfile

    from tests.conftest import _temporary_folder_outside

    repository = tmp_path / "repository"
    (repository / "tmp").mkdir(parents=True)
    monkeypatch.setenv("TMPDIR", str(repository / "tmp"))
    monkeypatch.setattr(tempfile, "tempdir", None)
    assert Path(tempfile.gettempdir()).resolve() == (repository / "tmp").resolve()
    _temporary_folder_outside(repository.resolve())
    assert repository.resolve() not in Path(tempfile.gettempdir()).resolve().parents
    assert "TMPDIR" not in os.environ

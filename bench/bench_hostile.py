"""What hostile input costs before it is refused: a 600-byte YAML alias bomb, nesting 20,000
deep, JMESPath conditions built to exhaust the stack, a 65 MiB API body; and what the checks
cost on every ordinary request and line of output.

Run: ``python -m bench.run hostile``. Times are wall clock, best of 5; memory is the peak
traced by ``tracemalloc`` during one refusal (Python allocations, which is where an alias
bomb's expansion would go).
"""

from __future__ import annotations

import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import requests
from tests.adversarial.hostile import ForeignHost, HostileProxy, huge
from tests.adversarial.test_hostile_policy import BILLION_LAUGHS, expression_rule

from pipeledger.errors import PipeledgerError
from pipeledger.http.fetch import FetchLimits, fetch
from pipeledger.http.origin import ApiOrigin
from pipeledger.policy.loader import load_policy
from pipeledger.redact import SecretMasker

# Targets: a refusal is quick and small whatever the input claims to be.
POLICY_TARGET_S = 0.5
POLICY_TARGET_MIB = 5.0
BODY_TARGET_S = 2.0
ORIGIN_TARGET_US = 20.0
MASK_TARGET_US = 20.0


def best_of(action: Callable[[], object], runs: int = 5) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def peak_mib(action: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1] / (1024 * 1024)
    finally:
        tracemalloc.stop()


def refusing(path: Path) -> Callable[[], object]:
    def load() -> object:
        try:
            load_policy(str(path))
        except PipeledgerError as error:
            return error
        raise AssertionError(f"{path} was accepted")

    return load


def policy_cases(folder: Path) -> list[tuple[str, Path]]:
    rule = "rules:\n  - id: r\n    type: require-review\n"
    cases = {
        "alias bomb (9^9 values from 623 bytes)": BILLION_LAUGHS,
        "flow nesting 20,000 deep": "version: 1\nx: " + "[" * 20_000 + "]" * 20_000 + "\n" + rule,
        "condition: 5,000 `!`": expression_rule("!" * 5_000 + "pending"),
        "condition: 3,000 parentheses": expression_rule("(" * 3_000 + "p" + ")" * 3_000),
    }
    paths = []
    for index, (name, text) in enumerate(cases.items()):
        path = folder / f"p{index}.yml"
        path.write_text(text, encoding="utf-8")
        paths.append((name, path))
    return paths


def bench_policies() -> None:
    with tempfile.TemporaryDirectory() as folder:
        print("| hostile policy file | refused in | peak memory | target met |")
        print("|---|---:|---:|---|")
        for name, path in policy_cases(Path(folder)):
            seconds = best_of(refusing(path))
            mib = peak_mib(refusing(path))
            verdict = "ok" if seconds <= POLICY_TARGET_S and mib <= POLICY_TARGET_MIB else "MISS"
            print(f"| {name} | {seconds * 1000:.1f} ms | {mib:.2f} MiB | {verdict} |")
    print(f"targets: ≤ {POLICY_TARGET_S * 1000:.0f} ms, ≤ {POLICY_TARGET_MIB:.0f} MiB")


def bench_oversized_body() -> None:
    with ForeignHost() as upstream, HostileProxy(upstream.base_url) as proxy:
        proxy.on("^/big", huge(65 * 1024 * 1024))
        origin = ApiOrigin.of(proxy.base_url)
        session = requests.Session()

        def refuse() -> object:
            try:
                fetch(
                    session,
                    origin,
                    proxy.base_url + "/big",
                    params=None,
                    headers={},
                    timeout=30,
                    limits=FetchLimits(),
                )
            except PipeledgerError as error:
                return error
            raise AssertionError("a 65 MiB body was read")

        seconds = best_of(refuse, runs=3)
        mib = peak_mib(refuse)
    verdict = "ok" if seconds <= BODY_TARGET_S else "MISS"
    print(
        f"65 MiB chunked body: refused after reading 64 MiB in {seconds:.2f} s,"
        f" peak {mib:.0f} MiB (target ≤ {BODY_TARGET_S:.0f} s) {verdict}"
    )


def bench_per_request_checks() -> None:
    origin = ApiOrigin.of("https://ghe.example.com/api/v3")
    link = "https://ghe.example.com/api/v3/repos/acme/web/actions/runs?per_page=100&page=7"
    count = 20_000
    seconds = best_of(lambda: [origin.resolve(link) for _ in range(count)])
    per = seconds / count * 1e6
    print(
        f"same-origin check of a next link: {per:.1f} µs (target ≤ {ORIGIN_TARGET_US:.0f} µs)"
        f" {'ok' if per <= ORIGIN_TARGET_US else 'MISS'}"
    )
    masker = SecretMasker([f"ghp_secret_value_{n:04}_abcdefghij" for n in range(8)])
    line = "pipeledger: collecting acme/web, 123 events, rate limit left 4999 " * 3
    seconds = best_of(lambda: [masker.mask(line) for _ in range(count)])
    per = seconds / count * 1e6
    print(
        f"masking one 200-character output line against 8 secrets: {per:.1f} µs"
        f" (target ≤ {MASK_TARGET_US:.0f} µs) {'ok' if per <= MASK_TARGET_US else 'MISS'}"
    )


def main() -> None:
    bench_policies()
    bench_oversized_body()
    bench_per_request_checks()


if __name__ == "__main__":
    main()

"""What ``--help`` says about each command beyond its options: one paragraph of description
and examples, in one table so every command reads alike.

A new command adds one entry to ``COMMAND_HELP``, keyed by the words a user types after
``pipeledger`` (``"sinks"``, ``"report verify"``); ``tests/core/test_cli_help.py`` fails,
naming the entry to add, for any command without one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandHelp:
    description: str
    # (command line, what it does) pairs, shown under "Examples".
    examples: tuple[tuple[str, str], ...]


ROOT = ""

COMMAND_HELP: dict[str, CommandHelp] = {
    ROOT: CommandHelp(
        "Who did what in CI/CD: pipeledger records who triggered, deployed, approved and"
        " reviewed what on GitHub and GitLab, keeps it in a tamper-evident ledger, and fails"
        " the deploy job when a policy says no. Tokens come from the environment only"
        " (GITHUB_TOKEN, GITLAB_TOKEN); every option has a PIPELEDGER_* twin. Exit codes: 0"
        " pass, 1 policy violations, 2 usage or config error, 3 platform, network or sink"
        " failure, 4 ledger verification failed.",
        (
            ("pipeledger collect --platform github --org acme --since 30d", "pull history"),
            ("pipeledger events --kind deployment --environment production", "who deployed"),
            ("pipeledger audit --policy policy.yml --since 30d", "judge recorded history"),
            ("pipeledger verify", "prove the ledger was not altered"),
        ),
    ),
    "collect": CommandHelp(
        "Pull pipeline runs, deployments, approvals, code reviews and access changes from"
        " GitHub or GitLab into the ledger (./pipeledger.db unless --sink says otherwise) and"
        " every other sink. Incremental and resumable: a second run fetches only what is new,"
        " and a run that was stopped continues where it left off. On a terminal it shows"
        " progress with totals and the rate limit; -q keeps it silent.",
        (
            (
                "pipeledger collect --platform github --org acme --since 30d",
                "every repository of an organization, last 30 days",
            ),
            (
                "pipeledger collect --platform gitlab --group acme/platform",
                "a GitLab group and its subgroups (GITLAB_TOKEN, read_api)",
            ),
            (
                "pipeledger collect --platform github --repo acme/web --repo acme/api"
                " --sink sqlite:///audit.db --sink jsonl:///audit.jsonl",
                "two repositories into a ledger and a JSONL copy",
            ),
            (
                "pipeledger collect --platform gitlab --group acme --concurrency 8",
                "eight projects at once, one shared rate limit; the same ledger as serially",
            ),
        ),
    ),
    "check": CommandHelp(
        "The deploy gate, run inside the deploy job after the environment's approval: it"
        " reads this job's run, deployment, approvals and code review from the platform,"
        " records them with its verdict, and exits 1 when the policy says no (so the deploy"
        " step never runs), 3 when the platform cannot be reached (fail closed unless"
        " --fail-open).",
        (
            (
                "pipeledger check --policy .github/pipeledger/policy.yml --environment production",
                "gate this GitHub Actions job's deployment",
            ),
            (
                "pipeledger check --policy policy.yml --output sarif=gate.sarif",
                "also write the findings as SARIF",
            ),
        ),
    ),
    "audit": CommandHelp(
        "Judge recorded history against a policy, so violations that happened outside any"
        " gate are found too. Exits 1 when findings reach --fail-on, and 2 when the period"
        " holds no deployment at all (a pass on no data proves nothing) unless --allow-empty.",
        (
            ("pipeledger audit --policy policy.yml --since 30d", "the last 30 days"),
            (
                "pipeledger audit --policy policy.yml --format sarif > audit.sarif",
                "findings for code scanning",
            ),
            (
                "pipeledger audit --policy policy.yml --since 2026-01-01 --until 2026-04-01"
                " --record",
                "one quarter, recording the verdicts in the ledger",
            ),
        ),
    ),
    "anomalies": CommandHelp(
        "Alerts on what no policy rule foresaw — a first-time or dormant deployer, a deploy at"
        " an hour the team never deploys, a grant used within hours, protection switched off"
        " for one deploy, a burst of deploys, an approver who rubber-stamps one person —"
        " learned per repository and environment from the ledger's own history (90-day"
        " look-back). Alert ids are stable; --record sends each new alert once to every sink."
        " Exits 0 whether or not there are alerts.",
        (
            ("pipeledger anomalies --since 7d", "alerts about the last week"),
            (
                "pipeledger anomalies --since 1d --min-severity high --format json",
                "high-severity alerts as JSON",
            ),
            ("pipeledger anomalies --since 1d --record", "record new alerts for every sink"),
        ),
    ),
    "anomalies ack": CommandHelp(
        "Acknowledge an alert with a reason: recorded in the ledger (and every sink) as who"
        " acknowledged it and why; an acknowledged alert is not raised again.",
        (
            (
                "pipeledger anomalies ack 1b52d4018bd33b94c042cd759d21faf1"
                " --reason 'planned evening release, CHG-2231'",
                "acknowledge one alert",
            ),
        ),
    ),
    "provenance": CommandHelp(
        "Everything behind one deployment, from the ledger alone: who triggered and re-ran"
        " it, who approved it and when, the code review of the deployed commit, gate verdicts,"
        " bypasses, the protection in force and access changes before it. Name the deployment"
        " by its platform id, OWNER/REPO#ID, OWNER/REPO@SHA, or the URL of its run or"
        " pipeline.",
        (
            ("pipeledger provenance 1234567", "by the platform's deployment id"),
            ("pipeledger provenance acme/web@4f2a9c1", "the deployment of a commit"),
            (
                "pipeledger provenance https://github.com/acme/web/actions/runs/42 --format json",
                "by the run's URL, as JSON evidence",
            ),
        ),
    ),
    "verify": CommandHelp(
        "Recompute the ledger's hash chain and check every checkpoint — their signatures"
        " with --public-key, copies elsewhere with --against — and name the first record"
        " that does not match. Exit 4 when anything was altered.",
        (
            ("pipeledger verify", "the default ./pipeledger.db"),
            (
                "pipeledger verify --public-key pipeledger-signing.pub"
                " --against jsonl:///backup/audit.jsonl",
                "signatures and a remote copy too",
            ),
        ),
    ),
    "events": CommandHelp(
        "Query the ledger: what happened, who did it, to whom and where, oldest first. A"
        " change shows as `read → admin`. Filters combine; --format json, jsonl and csv are"
        " for scripts and spreadsheets.",
        (
            (
                "pipeledger events --kind deployment --environment production --limit 20",
                "the first 20 production deployments",
            ),
            ("pipeledger events --actor alice --since 7d", "what alice did this week"),
            ("pipeledger events --reverse --limit 10", "the 10 newest events"),
            (
                "pipeledger events --kind permission.change --format csv > access.csv",
                "access changes for a spreadsheet",
            ),
            ("pipeledger events --deployment acme/web@4f2a9c1", "everything about one deployment"),
        ),
    ),
    "metrics": CommandHelp(
        "DORA's four keys from the ledger alone: deployment frequency, lead time for changes,"
        " change failure rate and time to restore, for production environments over a"
        " period; each figure says how it was worked out.",
        (
            ("pipeledger metrics --period 2026-Q1", "one quarter, as text"),
            (
                "pipeledger metrics --period 30d --production 'prod*' --format json",
                "the last 30 days of environments named prod…, as JSON",
            ),
        ),
    ),
    "report": CommandHelp(
        "Write the auditor's evidence pack for a period into a new folder: an offline HTML"
        " summary (approval coverage, violations, access changes, coverage of the collection,"
        " DORA metrics, a SOC 2 / ISO 27001 / SOX control mapping) with one evidence page per"
        " sampled deployment, data.json, CSV files, and manifest.json with every file's"
        " SHA-256, signed with the Ed25519 key in PIPELEDGER_SIGNING_KEY (--unsigned for a"
        " draft). The ledger's hash chain is verified first (exit 4 if it fails).",
        (
            (
                "pipeledger report --period 2026-Q1 --policy policy.yml --out evidence-2026-Q1",
                "a quarter's signed pack with the policy's verdicts",
            ),
            (
                "pipeledger report --period 2026-03 --environment production --sample 40"
                " --seed 7 --out evidence-march",
                "production only, 40 random deployments besides the flagged ones",
            ),
        ),
    ),
    "report verify": CommandHelp(
        "Check an evidence pack: every file against its SHA-256 in manifest.json, the"
        " manifest's signature against --public-key, and with --sink that the ledger holds the"
        " head and checkpoint the pack names. Exit 4 naming any changed, added or removed"
        " file, a wrong key or another ledger.",
        (
            (
                "pipeledger report verify evidence-2026-Q1 --public-key pipeledger-signing.pub",
                "files and signature",
            ),
        ),
    ),
    "serve": CommandHelp(
        "Receive GitHub and GitLab webhooks and GitLab audit event streams (and those of any"
        " other installed receiver plugin) into the ledger in real time: approvals with their"
        " real time, access changes an organization without an audit log never sees. Each"
        " delivery is answered only once its events are committed (503 while the ledger is"
        " down); /healthz and /metrics (Prometheus) are served too. Secrets come from the"
        " environment only: PIPELEDGER_WEBHOOK_SECRET (GitHub),"
        " PIPELEDGER_GITLAB_WEBHOOK_TOKEN and PIPELEDGER_GITLAB_STREAMING_TOKEN (GitLab). With"
        " --policy it is also the GitHub App that serves as an environment's deployment"
        " protection rule. Needs the serve extra.",
        (
            (
                "pipeledger serve --listen 0.0.0.0:8080 --sink postgresql://ledger@db/pipeledger",
                "receive webhooks into a PostgreSQL ledger",
            ),
        ),
    ),
    "webhooks": CommandHelp(
        "GitHub does not retry a failed webhook delivery. Look through the deliveries of an"
        " organization's or repository's hooks, or of the GitHub App's own hook, and ask"
        " GitHub to deliver again every one that failed since WHEN and never succeeded since,"
        " so a pipeledger serve outage leaves no gap. Needs GITHUB_TOKEN with admin:org_hook"
        " (or repository admin), or the App's id and key for --app.",
        (
            (
                "pipeledger webhooks redeliver --org acme --since 12h",
                "redeliver what the organization's hooks failed to deliver in 12 hours",
            ),
            ("pipeledger webhooks redeliver --app --dry-run", "list the App's failed deliveries"),
        ),
    ),
    "flush": CommandHelp(
        "Deliver everything the ledger holds that a sink still lacks, and checkpoint the"
        " head. Exit 3 if a sink still fails; its records stay pending in the ledger.",
        (
            (
                "pipeledger flush --sink sqlite:///pipeledger.db --sink splunk+https://splunk:8088",
                "catch a SIEM up after an outage",
            ),
        ),
    ),
    "sinks": CommandHelp(
        "Open every configured sink, test its connectivity and permissions, and say per sink"
        " what to fix. Exit 3 if any fails.",
        (
            (
                "pipeledger sinks check --sink sqlite:///pipeledger.db"
                " --sink postgresql://audit@db/ledger",
                "check a ledger and a PostgreSQL copy",
            ),
        ),
    ),
    "keygen": CommandHelp(
        "Create an Ed25519 key pair for signed chain checkpoints: PREFIX.key (readable by its"
        " owner only, never printed) and PREFIX.pub for `pipeledger verify --public-key`.",
        (("pipeledger keygen --out ci-signing", "write ci-signing.key and ci-signing.pub"),),
    ),
    "demo": CommandHelp(
        "Run pipeledger offline on recorded GitHub and GitLab API responses served from"
        " 127.0.0.1: collect, verify, query and audit, then show the commands to run against"
        " your own organization.",
        (
            ("pipeledger demo", "into a temporary ledger"),
            ("pipeledger demo --ledger demo.db", "keep the demo ledger to explore"),
        ),
    ),
}


def epilog(entry: CommandHelp) -> str:
    """The examples block: a comment line saying what each does, then the command."""
    lines = ["Examples:"]
    for command, what in entry.examples:
        lines += [f"  # {what}", f"  $ {command}", ""]
    return "\n".join(lines).rstrip() + "\n"

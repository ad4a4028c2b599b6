"""The same history read the naive way, with PyGithub and its defaults (30 items a page, no
conditional requests): every run's approvals (the loop cannot know which runs deployed), every
deployment's statuses, and the pull requests and reviews of every deployment's commit.

Two departures from the defaults, neither of which changes the request count for the worse:
PyGithub's pause of 0.25 s between requests is turned off (it would only stretch the wall
time), and a commit's pull requests are listed from its URL instead of through
``repo.get_commit(sha)``, which with defaults first GETs the commit itself (one more request
per deployment, and the fake serves no commits).

``python -m bench.github_naive API_URL TOKEN ORG`` prints what it read as JSON; the requests
it made are counted by the fake server.
"""

from __future__ import annotations

import json
import sys
from collections import Counter

from github.Auth import Token
from github.MainClass import Github
from github.PaginatedList import PaginatedList
from github.PullRequest import PullRequest


def crawl(api_url: str, token: str, org: str) -> Counter[str]:
    client = Github(auth=Token(token), base_url=api_url, seconds_between_requests=None)
    seen: Counter[str] = Counter()
    for repo in client.get_organization(org).get_repos():
        seen["repos"] += 1
        for run in repo.get_workflow_runs():
            seen["runs"] += 1
            approvals = run._requester.requestJsonAndCheck("GET", run.url + "/approvals")[1]
            seen["approvals"] += len(approvals) if isinstance(approvals, list) else 0
        for deployment in repo.get_deployments():
            seen["deployments"] += 1
            seen["statuses"] += sum(1 for _ in deployment.get_statuses())
            pulls_url = f"{repo.url}/commits/{deployment.sha}/pulls"
            for pull in PaginatedList(PullRequest, repo._requester, pulls_url, None):
                seen["pulls"] += 1
                seen["reviews"] += sum(1 for _ in pull.get_reviews())
    client.close()
    return seen


def main(argv: list[str]) -> int:
    api_url, token, org = argv
    print(json.dumps(crawl(api_url, token, org), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

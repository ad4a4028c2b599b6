"""GitHub adapter: workflow runs, deployments, environment approvals and reviews."""

"""GitLab adapter: pipelines, deployments, approvals, merge request approvals, audit events."""

"""Pure functions from GitLab payloads to audit events: pipelines, deployments and approvals
(``pipelines``), who can do what (``access``), and who a user object is (``actors``)."""

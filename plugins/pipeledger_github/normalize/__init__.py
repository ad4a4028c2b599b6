"""Pure functions from GitHub payloads to audit events: runs and deployments
(``pipelines``), environment approvals and pull request reviews (``reviews``), who can do
what (``access``), and the defensive field reading they share (``fields``)."""

"""GitLab audit events (Premium/Ultimate): as events (``events``), their incremental read
(``stream``), audit event streaming for ``serve`` (``streaming``), and what each changed in
the terms snapshots use (``subjects``)."""

"""Who can do what and what guards deploys on GitLab: snapshots of members, protected
environments and protected branches on every collection."""

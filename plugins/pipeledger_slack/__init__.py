"""Slack-compatible alert route: posts new anomaly alerts to an incoming webhook."""

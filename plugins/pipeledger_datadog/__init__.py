"""Datadog logs sink."""

"""Splunk HTTP Event Collector sink."""

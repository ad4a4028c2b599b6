"""Elasticsearch / OpenSearch bulk sink."""

"""Amazon S3 sink: one object per batch, keyed by content hash."""

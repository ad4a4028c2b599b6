"""Line-oriented sinks: a JSONL file and standard output."""

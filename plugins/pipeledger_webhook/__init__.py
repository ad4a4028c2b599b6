"""Generic webhook sink: signed JSON batches."""

"""The ``pipeledger`` command line."""

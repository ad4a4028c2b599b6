"""``python -m pipeledger``: the same as the ``pipeledger`` command."""

from pipeledger.cli.main import run

run()

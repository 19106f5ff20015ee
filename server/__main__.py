"""``python -m server`` is the ``laogan`` command."""

from server.cli import main

main()

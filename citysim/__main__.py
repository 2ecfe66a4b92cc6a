"""``python -m citysim`` is the ``citysim`` command."""

from citysim.cli import main

main()

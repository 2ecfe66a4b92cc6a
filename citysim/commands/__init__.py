"""Commands of the ``citysim`` group that live outside ``citysim/cli.py`` (one module per family)."""

"""``python -m mullet.cli``: the same as the ``mullet`` command."""

from mullet.cli import main

main()

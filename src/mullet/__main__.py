"""``python -m mullet``: the same as the ``mullet`` command (an early Ctrl-C included)."""

from mullet._entry import main

main()

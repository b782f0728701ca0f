"""Live curtailment of a miner fleet: drivers, an emulator, allocator, executor, watchdog, audit log, controller.

The controller calls the dispatch package's step-callable realtime policy one interval at a time and wraps it in a
safety envelope (see :mod:`mullet.control.controller` for the numbered safety properties). All network calls have
timeouts; the emulator and the tests only use loopback addresses (127.0.0.0/8).
"""

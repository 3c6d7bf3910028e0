"""Small shared pieces: database, encryption keyring, errors, app-state access.

Kit imports nothing of TuneDeck but itself and the configuration (``tests/kit/test_layers.py``)."""

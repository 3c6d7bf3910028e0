"""Small shared pieces: database, encryption keyring, errors, migrations, app-state access."""

"""The storage fixtures (SQLite and PostgreSQL) for the kit tests."""

from tests.kit import storage

database_url = storage.database_url
database = storage.database
fresh_database_url = storage.fresh_database_url
keyring = storage.keyring

from tests.kit.storage import database, database_url, fresh_database_url, keyring  # noqa: F401

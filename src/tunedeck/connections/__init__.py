"""App credentials, the OAuth connect flow and the token manager."""

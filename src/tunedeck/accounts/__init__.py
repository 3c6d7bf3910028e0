"""Accounts, API keys, overlay tokens, dashboard sessions, permissions and the auth doors."""

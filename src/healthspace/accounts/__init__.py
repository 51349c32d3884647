"""Accounts, sessions, tokens and who may see whose record."""

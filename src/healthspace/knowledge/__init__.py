"""Sourced medical knowledge: every item carries the authority it comes from."""

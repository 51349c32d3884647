"""Workspace (clinicians): the record as a clinician reads it, every line with its source."""

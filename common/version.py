"""The parser version, recorded on every document, report and fact (CHANGELOG.md says
what each one changed)."""

PARSER_VERSION = "0.7.1"
"""Bumped whenever a change to extract/ or transform/ can change extracted values."""

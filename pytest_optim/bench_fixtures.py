"""Fixtures of the bench suites. Imports nothing heavy at load time."""

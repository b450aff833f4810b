"""Fixtures of the workload suites. Imports nothing heavy at load time."""

"""Harness of fastapi-known-issues: matrix model, cell runner, outcome plugin, results, report."""

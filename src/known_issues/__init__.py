"""Harness of fastapi-known-issues: matrix model, cell runner, outcome plugin, results, report."""

PROJECT = "fastapi-known-issues"  # the product's name, as pages and summaries title themselves

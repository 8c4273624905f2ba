"""The runner: environments and locks, one cell and many, flaky confirmation, the result store, gc.

It may import the cell kernel and the shared models (matrix, catalog, results, run files), never
``known_issues.reporting``."""

"""Bytecode shared between cell environments (the mechanism: known_issues/cell/shared_bytecode.py)
and, for ``gc``, the stored bytecode no environment uses any more."""

from __future__ import annotations

from pathlib import Path

from known_issues.cell.shared_bytecode import harvest, key_of, seed, site_packages

__all__ = ["harvest", "key_of", "seed", "site_packages", "unused"]


def unused(store: Path) -> list[Path]:
    """Stored bytecode no environment links to any more."""
    out = []
    for tag in sorted(store.iterdir()) if store.is_dir() else []:
        for path in sorted(tag.iterdir()) if tag.is_dir() else []:
            try:
                if path.stat().st_nlink == 1:
                    out.append(path)
            except OSError:
                continue
    return out

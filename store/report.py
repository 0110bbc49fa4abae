"""`devsearch status`: what a store holds, as one dict (also the --json output)."""
from __future__ import annotations

import os
from pathlib import Path

from store.catalog import CATALOG_FILE, Store, check_home


def _bytes_on_disk(home: Path) -> int:
    return sum(p.stat().st_size for p in home.iterdir() if p.is_file()) if home.is_dir() else 0


def store_status(home: Path) -> dict:
    """Counts by status, failures and skips by reason, the failed and skipped paths with their reasons,
    roots, model, size and the last run; zeros for no store."""
    home = Path(os.path.expanduser(home)).absolute()
    check_home(home)
    status = {"home": str(home), "images": 0, "failed": 0, "deleted": 0, "skipped": 0, "failures": {}, "skips": {},
              "roots": [], "model": None, "store_bytes": _bytes_on_disk(home), "last_run": None,
              "failed_files": [], "skipped_files": []}
    if not (home / CATALOG_FILE).is_file():
        return status
    with Store.open(home, allow_empty=True) as store:
        manifest = store.model_manifest()
        status.update(
            images=store.count("indexed"), failed=store.count("failed"), deleted=store.count("deleted"),
            failures=store.failure_counts(), roots=store.roots(),
            model=manifest["fingerprint"] if manifest else None, last_run=store.last_run(),
            failed_files=[{"path": path, "error": error} for path, error in store.failed_files()],
            skipped_files=[{"path": path, "reason": reason} for path, reason in store.skipped_files()])
        status.update(skipped=len(status["skipped_files"]), skips=store.skip_counts())
    return status

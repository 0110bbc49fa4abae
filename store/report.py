"""`devsearch status`: what a store holds, as one dict (the --json output) and as lines of text."""
from __future__ import annotations

import os
from pathlib import Path

from devsearch.core.safe_text import shown_path, visible
from devsearch.store.catalog import CATALOG_FILE, Store, check_home


def _bytes_on_disk(home: Path) -> int:
    return sum(p.stat().st_size for p in home.iterdir() if p.is_file()) if home.is_dir() else 0


def store_status(home: Path) -> dict:
    """Counts by status, failures and skips by reason, the failed and skipped paths with their reasons,
    roots, model, size and the last run; zeros for no store."""
    home = Path(os.path.expanduser(home)).absolute()
    check_home(home)
    if not (home / CATALOG_FILE).is_file():
        return _empty_status(home)
    with Store.open(home, allow_empty=True) as store:
        return status_of(store)


def _empty_status(home: Path) -> dict:
    return {"home": str(home), "images": 0, "failed": 0, "deleted": 0, "skipped": 0, "failures": {}, "skips": {},
            "roots": [], "model": None, "store_bytes": _bytes_on_disk(home), "last_run": None,
            "failed_files": [], "skipped_files": []}


def status_of(store: Store) -> dict:
    """store_status of a store already open (a long-lived searcher's: the web gallery's /api/status)."""
    status = _empty_status(Path(store.home).absolute())
    manifest = store.model_manifest()
    status.update(
        images=store.count("indexed"), failed=store.count("failed"), deleted=store.count("deleted"),
        failures=store.failure_counts(), roots=store.roots(),
        model=manifest.fingerprint if manifest else None, last_run=store.last_run(),
        failed_files=[{"path": path, "error": error} for path, error in store.failed_files()],
        skipped_files=[{"path": path, "reason": reason} for path, reason in store.skipped_files()])
    status.update(skipped=len(status["skipped_files"]), skips=store.skip_counts())
    return status


def format_status(status: dict) -> list[str]:
    """The lines `devsearch status` prints for a store_status dict."""
    failures = visible(", ".join(f"{n:,} {reason}" for reason, n in status["failures"].items()))
    skips = visible(", ".join(f"{n:,} {reason}" for reason, n in status["skips"].items()))
    lines = [
        f"home      {shown_path(status['home'])}",
        f"photos    {status['images']:,} indexed, {status['failed']:,} failed, {status['deleted']:,} deleted",
        *([f"failures  {failures}"] if failures else []),
        *([f"skipped   {skips} (devsearch status --failed lists them)"] if skips else []),
        f"roots     {', '.join(shown_path(root) for root in status['roots']) or '(none)'}",
        f"model     {status['model'] or '(none yet)'}",
        f"size      {status['store_bytes'] / 1e6:.1f} MB",
    ]
    run = status["last_run"]
    if run:
        lines.append(f"last run  {run['finished_at']} {run['outcome']}: {run['new']:,} new, {run['updated']:,} updated, "
                     f"{run['moved']:,} moved, {run['deleted']:,} deleted, {run['failed']:,} failed")
        if run.get("network"):
            lines.append(f"network   {describe_network(run['network'])}")
    return lines


def describe_network(network: dict) -> str:
    """`jax on gpu: NVIDIA H200, bfloat16`: what ran the network, for the index summary and `status`."""
    return f"{network['backend']} on {network['device']}, {network['precision']}"

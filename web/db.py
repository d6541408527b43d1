"""The store for a request, on `g`, closed at teardown (as `get_db` in Flask's tutorial)."""
from __future__ import annotations

from pathlib import Path

from flask import current_app, g

from mat.storage.store import Store


def get_store() -> Store:
    """This request's Store: one SQLite connection, opened on first use."""
    if "store" not in g:
        g.store = Store(current_app.config["DATABASE"])
    return g.store


def close_store(_exc=None) -> None:
    store = g.pop("store", None)
    if store is not None:
        store.close()


def init_app(app) -> None:
    """Create or upgrade the schema once at start, and close each request's store."""
    Path(app.config["DATABASE"]).parent.mkdir(parents=True, exist_ok=True)
    Store(app.config["DATABASE"]).close()
    app.teardown_appcontext(close_store)

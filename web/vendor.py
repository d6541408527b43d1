"""uPlot, served from the installed `uplot-python` package (never copied into this repo).

Why uPlot: the phone draws the charts (canvas, fast even with tens of thousands of points;
one ~120 KB file, ~50 KB gzipped, cached for a day), so the Pi Zero 2 only serves JSON.
Server-side charts (matplotlib, pygal) would spend the Pi's CPU and memory on drawing, next
to the realtime loop.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

UPLOT_FILES = ("uPlot.iife.js", "uPlot.min.css")


def uplot_static_dir() -> Path:
    import uplot

    return Path(uplot.__file__).parent / "static"


@bp.get("/uplot/<name>")
def uplot(name: str):
    if name not in UPLOT_FILES:
        abort(404)
    return send_from_directory(uplot_static_dir(), name, max_age=86400)

"""The live page: what the mat feels now, updated from /api/live."""
from __future__ import annotations

from flask import Blueprint, render_template

from mat.pipeline.settings import VARIANT_NAMES

from web.db import get_store

bp = Blueprint("live", __name__)


@bp.get("/")
def index():
    return render_template("live.html", settings=get_store().get_settings(), variant_names=VARIANT_NAMES, page="live")

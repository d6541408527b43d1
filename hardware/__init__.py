"""Flatback's hardware layer: chips, pins, and their faithful emulation.

Nothing here knows about sessions, detection, storage or the web; `mat` builds on it.
"""

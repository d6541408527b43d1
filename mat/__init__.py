"""Flatback's domain and daemon: frames, calibration, lift-off detection, reps, sessions,
the store, the live socket, configuration, the realtime loop and the `mat` command."""

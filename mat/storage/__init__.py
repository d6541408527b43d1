"""What the mat keeps: the SQLite store (sessions, settings, the PIN's hash), the recording
format, and the PIN's rules."""

"""The pages: live, history and sessions, settings (one blueprint each)."""

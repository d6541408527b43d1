"""`mat run`: the realtime loop that owns the hardware, its alerts, and the live socket the
web server reads; `wiring` builds it from the configuration."""

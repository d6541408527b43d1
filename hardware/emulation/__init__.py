"""All simulation, in one place: register-level ADS1115s on a fake I2C bus, the whole mat
under the real driver, a simulated person with realistic sensors, and named scenarios.
Only tests, the demo and the bench use it; the Pi never imports it."""

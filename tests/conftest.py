"""Shared fixtures: gpiozero's mock pins per test, and simulated sessions."""
import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin


@pytest.fixture(autouse=True)
def mock_pins():
    """Every test gets fresh mock PWM pins, as gpiozero's own test suite does."""
    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    yield Device.pin_factory
    Device.pin_factory.reset()
    Device.pin_factory = None


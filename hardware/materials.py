"""Pressure-sensing materials and the voltage divider that reads them.

Each cell is the sensor in a divider from the supply: sensor to 3.3 V, fixed resistor to ground,
the ADC across the fixed resistor. More force → more sensor conductance G → higher voltage:

    V = V_supply · G / (G + G_fixed)          so          G / G_fixed = V / (V_supply − V)

The material's typical response gives G as a function of load (hardware/README.md, "What real
sensors do"): G = G_unloaded + k · load ** exponent. Velostat's exponent is about 0.6, an FSR's
close to 1. Both the simulator (load → volts) and the detector (counts → load) use this module,
so the response curve lives in one place.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SUPPLY_V = 3.3
#: Full-scale voltage per ADS1115 gain setting (datasheet's PGA table).
GAIN_FULL_SCALE_V = {2 / 3: 6.144, 1: 4.096, 2: 2.048, 4: 1.024, 8: 0.512, 16: 0.256}


def volts_to_counts(volts, gain: float = 1):
    """Ideal ADS1115 code for a voltage at a gain: 16-bit signed, clipped to the full scale."""
    full_scale = GAIN_FULL_SCALE_V[gain]
    return np.clip(np.round(np.asarray(volts) / full_scale * 32768), -32768, 32767).astype(np.int32)


def rail_counts(gain: float = 1, supply_v: float = SUPPLY_V) -> int:
    """The code a cell reads when its sensor shorts: the supply rail (26 400 at gain 1, 3.3 V)."""
    return int(volts_to_counts(supply_v, gain))


@dataclass(frozen=True)
class SensorMaterial:
    """A material's typical response: G = G_unloaded + k · load ** exponent.

    exponent: how conductance grows with load (dimensionless).
    unloaded_fraction: unloaded conductance as a fraction of a typically loaded cell's.
    """

    name: str
    exponent: float
    unloaded_fraction: float

    def conductance_ratio(self, load, gain_k=1.0):
        """G / G_fixed for a load (arbitrary units, 1.0 ≈ a typically loaded cell)."""
        load = np.maximum(np.asarray(load, dtype=float), 0.0)
        return gain_k * (self.unloaded_fraction + load**self.exponent)

    def load_from_counts(self, counts, tare_counts, rail: int):
        """Linearised load (arbitrary per-cell units) from raw counts, given the empty-mat tare.

        Undoes the divider, subtracts the unloaded conductance and undoes the power law, so
        that half the load reads as half, whatever the material.
        """
        counts = np.minimum(np.asarray(counts, dtype=float), rail - 1.0)
        tare = np.minimum(np.asarray(tare_counts, dtype=float), rail - 1.0)
        g = counts / (rail - counts)
        g0 = np.maximum(tare, 0.0) / (rail - tare)
        return np.maximum(g - g0, 0.0) ** (1.0 / self.exponent)


MATERIALS = {
    "velostat": SensorMaterial("velostat", exponent=0.6, unloaded_fraction=0.05),
    "fsr": SensorMaterial("fsr", exponent=0.95, unloaded_fraction=0.005),
}


def material(name: str) -> SensorMaterial:
    try:
        return MATERIALS[name]
    except KeyError:
        raise ValueError(f"unknown sensor material {name!r}; allowed: {', '.join(MATERIALS)}") from None

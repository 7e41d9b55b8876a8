"""spikeplast: spiking networks with plastic synapses on Brian2."""

__version__ = "0.1.0"

"""Demonstrations: complete experiments with a figure, run by ``spikeplast demo NAME``.

``conditioning``
    Izhikevich (2007) classical conditioning with dopamine-gated STDP
    (:mod:`spikeplast.demos.conditioning`).

``receptive-fields``
    Gabor-like receptive fields learned from natural images by a spiking network (or the
    rate model) under nonlinear Hebbian learning or another rule
    (:mod:`spikeplast.demos.receptive_fields`).

``python -m spikeplast.demos NAME`` runs the same command-line interface
(:mod:`spikeplast.demos.cli`) without the main command.
"""

#: Default simulated time of the conditioning demo in seconds (kept here, free of Brian2, for the
#: command line's help text): 20 min, in which the rewarded synapse reached its maximum for seeds
#: 1–3 (after 15, 12 and 10 min); the original runs an hour.
CONDITIONING_DURATION_S = 1200.0

#: Default simulated learning time of the receptive-field demo in seconds (see
#: docs/receptive_fields.md for what it reaches and how long it takes).
RF_DURATION_S = 4000.0

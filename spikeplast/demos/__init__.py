"""Demonstrations: complete experiments with a figure, run by ``spikeplast demo NAME``.

``conditioning``
    Izhikevich (2007) classical conditioning with dopamine-gated STDP
    (:mod:`spikeplast.demos.conditioning`).

``python -m spikeplast.demos NAME`` runs the same command-line interface
(:mod:`spikeplast.demos.cli`) without the main command.
"""

#: Default simulated time of the conditioning demo in seconds (kept here, free of Brian2, for the
#: command line's help text): 20 min, in which the rewarded synapse reached its maximum for seeds
#: 1–3 (after 15, 12 and 10 min); the original runs an hour.
CONDITIONING_DURATION_S = 1200.0

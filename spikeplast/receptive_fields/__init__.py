"""Receptive-field formation from natural images: data, rate model and spiking network.

* :mod:`.images` — built-in or user images, patches, PCA-restricted ZCA whitening;
* :mod:`.rate` — the rate-based nonlinear Hebbian model (fast comparison);
* :mod:`.network` — the spiking network (ON/OFF Poisson inputs, LIF neurons with lateral
  inhibition and adaptive thresholds, plastic feed-forward weights under any suitable rule).

The metrics are in :mod:`spikeplast.analysis`; the demo that ties everything together with a
figure is :mod:`spikeplast.demos.receptive_fields`.
"""

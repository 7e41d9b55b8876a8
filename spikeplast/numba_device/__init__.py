"""``numba_standalone``: a Brian2 device that compiles whole simulations with Numba.

Importing this package imports Brian2 and registers the device; :func:`register` does the same
explicitly (idempotent).  Select it like any standalone device::

    import spikeplast.numba_device
    from brian2 import set_device
    set_device("numba_standalone", directory="output")

See ``docs/numba_device.md`` for what is supported and how results are cached.
"""

from __future__ import annotations

__all__ = ["register", "DEVICE_NAME"]

#: Name under which the device is registered in ``brian2.devices.device.all_devices``.
DEVICE_NAME = "numba_standalone"


def register() -> None:
    """Register the ``numba_standalone`` device and its Numba function implementations.

    Safe to call more than once.  Imports Brian2 and Numba.
    """
    from brian2.devices.device import Device, all_devices

    from .codeobject import NumbaStandaloneCodeObject

    # ``brian2.devices.device`` is shadowed by Brian2's device proxy (``brian2.devices`` imports
    # the name ``device``), so ``brian2.devices.device.all_devices`` asks the *active device* for
    # an attribute ``all_devices``; without one the proxy returns a ``Dummy`` whose ``in`` never
    # terminates.  Giving devices that attribute makes such look-ups return the registry.
    if not hasattr(Device, "all_devices"):
        Device.all_devices = all_devices
    from .generator import register_functions

    register_functions(NumbaStandaloneCodeObject)
    if DEVICE_NAME not in all_devices:
        from .device import numba_standalone_device

        all_devices[DEVICE_NAME] = numba_standalone_device
    else:
        from . import device  # noqa: F401  (module import registers preferences)


register()

"""The code object of the ``numba_standalone`` device: a deferred call of generated Numba code."""

from __future__ import annotations

from brian2.codegen.codeobject import CodeObject, constant_or_scalar
from brian2.codegen.targets import codegen_targets
from brian2.codegen.templates import Templater
from brian2.devices.device import get_device

from .generator import NumbaCodeGenerator

__all__ = ["NumbaStandaloneCodeObject", "EMPTY_BLOCK_MARKER"]

#: Templates write this into blocks that have nothing to execute.
EMPTY_BLOCK_MARKER = "EMPTY_CODE_BLOCK"


class NumbaStandaloneCodeObject(CodeObject):
    """Code object whose blocks become ``@njit`` functions of the generated simulation module.

    Like C++ standalone code objects, running one only records the call in the device's
    ``main_queue``; the device executes the queue when the simulation is run.
    """

    templater = Templater(
        "spikeplast.numba_device",
        ".py_",
        env_globals={"constant_or_scalar": constant_or_scalar, "zip": zip, "len": len},
    )
    generator_class = NumbaCodeGenerator
    class_name = "numba_standalone"

    def __init__(self, *args, **kwds):
        super().__init__(*args, **kwds)
        #: Blocks other than ``run`` that contain code (``before_run``, ``after_run``).
        self.before_after_blocks: list[str] = []

    def __call__(self, **kwds):
        return self.run()

    def compile_block(self, block):
        pass  # compiled by the device for the whole simulation

    def run_block(self, block):
        if block == "run":
            get_device().main_queue.append(("run_code_object", (self,)))
            return
        code = getattr(self.code, block, "")
        if code.strip() and EMPTY_BLOCK_MARKER not in code:
            get_device().main_queue.append((f"{block}_code_object", (self,)))
            if block not in self.before_after_blocks:
                self.before_after_blocks.append(block)


codegen_targets.add(NumbaStandaloneCodeObject)

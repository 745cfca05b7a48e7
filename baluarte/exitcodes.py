"""The process exit codes of every command (DESIGN.md), defined once."""

from enum import IntEnum

__all__ = ["ExitCode"]


class ExitCode(IntEnum):
    COMPLIANT = 0
    DRIFT = 1
    BAD_INPUT = 2
    DEVICE_ERROR = 3

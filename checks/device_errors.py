"""How a collector turns what went wrong on one device into the DeviceError its findings carry."""

from __future__ import annotations

from baluarte.errors import AuthFailed, BadAnswer, DeviceError, InputError, TimedOut, Unreachable

__all__ = ["plain_device_error", "settings_error"]


def settings_error(exc: InputError) -> DeviceError:
    """The device's connection settings could not be used (e.g. a secret that cannot be read)."""
    if exc.code == "secret_unavailable":
        return DeviceError(f"credentials unavailable: {exc.message}")
    return DeviceError(exc.message)


def plain_device_error(exc: DeviceError) -> DeviceError:
    """The error as one of the kinds findings name (``describe_device_error`` goes by class)."""
    for kind in (AuthFailed, Unreachable, TimedOut, BadAnswer):
        if isinstance(exc, kind):
            return exc if type(exc) is kind else kind(str(exc))
    return exc if type(exc) is DeviceError else DeviceError(str(exc))

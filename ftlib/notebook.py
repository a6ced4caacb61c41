"""Notebook integration: show ftlib's actionable errors as one message, not a deep traceback.

:func:`install_error_handler` registers an IPython custom exception handler
for :class:`ftlib.errors.FtlibError`: the cell still fails (papermill stops and
reports it), but the output is ``ParameterError: <message>`` instead of a
traceback through ftlib's internals. Outside IPython it does nothing.
"""

from __future__ import annotations

from .errors import FtlibError


def _show_message(shell, etype, value, tb, tb_offset=None):
    shell._showtraceback(etype, value, [f"{etype.__name__}: {value}"])


def install_error_handler() -> bool:
    """Register the handler in the running IPython kernel; True if there is one."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    if shell is None:
        return False
    shell.set_custom_exc((FtlibError,), _show_message)
    return True

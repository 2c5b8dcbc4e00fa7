"""Local stand-ins for Google's and Microsoft's OAuth and mail APIs.

``build_sandbox()`` returns a ``Sandbox`` with both providers mounted; call
``start()`` on it to serve on loopback. See ``core`` for what they share.
"""

from __future__ import annotations

from pathlib import Path

from mailsync.sandbox.core import Fault, Sandbox

__all__ = ["Fault", "Sandbox", "build_sandbox"]


def build_sandbox(state_file: Path | None = None, seed: int | None = None) -> Sandbox:
    from mailsync.sandbox.google import GoogleProvider
    from mailsync.sandbox.microsoft import MicrosoftProvider

    sandbox = Sandbox(state_file=state_file, seed=seed)
    sandbox.mount(GoogleProvider(sandbox))
    sandbox.mount(MicrosoftProvider(sandbox))
    sandbox.restore()
    return sandbox

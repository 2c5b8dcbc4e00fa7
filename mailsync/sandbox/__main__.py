"""Run the provider sandbox on its own: ``python -m mailsync.sandbox``."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from mailsync.sandbox import build_sandbox

logger = logging.getLogger("mailsync.sandbox")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument(
        "--state-file",
        type=Path,
        help="keep users, grants and mail in this JSON file across restarts",
    )
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s sandbox: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    sandbox = build_sandbox(state_file=options.state_file)
    url = sandbox.start(options.host, options.port)
    logger.info("serving Google and Microsoft stand-ins at %s", url)

    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    while not stopping.wait(timeout=30):
        sandbox.save()
    sandbox.stop()
    logger.info("stopped")


if __name__ == "__main__":
    main()

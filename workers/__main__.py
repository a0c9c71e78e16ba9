"""Start a worker with its beat scheduler: ``python -m workers [extra celery worker options]``.

The same as ``celery -A workers.celery_app worker --beat --loglevel=<PORCHLIGHT_LOG_LEVEL>``. The pool
(threads, see ``workers.celery_app``), its concurrency and beat's schedule file (under the
temporary directory) come from the app's configuration. Beat runs inside this worker, so
start one such process per deployment; a second one would only sweep twice, which is
harmless.
"""

import sys

from porchlight.settings import get_settings
from workers.celery_app import celery


def main() -> None:
    settings = get_settings()
    # Celery prints its banner straight to stdout; under PORCHLIGHT_LOG_FORMAT=json every
    # line must be a log record, so it goes (the same facts are in the worker's log lines).
    quiet = ["--quiet"] if settings.log_format == "json" else []
    celery.worker_main([*quiet, "worker", "--beat", f"--loglevel={settings.log_level}", *sys.argv[1:]])


if __name__ == "__main__":
    main()

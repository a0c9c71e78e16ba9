"""Start a worker: ``python -m workers [extra celery worker options]``.

The same as ``celery -A workers.celery_app worker [--beat] --loglevel=<PORCHLIGHT_LOG_LEVEL>``. The pool
(threads, see ``workers.celery_app``), its concurrency and beat's schedule file (under the
temporary directory) come from the app's configuration. Beat, which queues the timed
sweeps, runs inside the worker unless ``PORCHLIGHT_WORKER_BEAT=false``: exactly one worker
of a deployment should run it (each sweep is safe to repeat, but N beats sweep N times).
"""

import sys

from porchlight.runtime.settings import Settings, get_settings
from workers.celery_app import celery


def worker_arguments(settings: Settings, extra: list[str]) -> list[str]:
    """Celery's command line for this process: its settings, then ``extra`` as given."""
    # Celery prints its banner straight to stdout; under PORCHLIGHT_LOG_FORMAT=json every
    # line must be a log record, so it goes (the same facts are in the worker's log lines).
    quiet = ["--quiet"] if settings.log_format == "json" else []
    beat = ["--beat"] if settings.worker_beat else []
    return [*quiet, "worker", *beat, f"--loglevel={settings.log_level}", *extra]


def main() -> None:
    celery.worker_main(worker_arguments(get_settings(), sys.argv[1:]))


if __name__ == "__main__":
    main()

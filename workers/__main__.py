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
    celery.worker_main(["worker", "--beat", f"--loglevel={get_settings().log_level}", *sys.argv[1:]])


if __name__ == "__main__":
    main()

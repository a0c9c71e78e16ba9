"""Celery workers: work that must not block a request — the signed-report PDF, timed sweeps.

``celery_app`` builds the one Celery app, ``tasks`` holds the tasks, ``pdf`` draws the
signed service report, and ``python -m workers`` starts a worker with its beat scheduler.
"""

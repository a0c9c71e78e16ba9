"""Tools for working on Porchlight, not for running it in production.

``stack`` (every process of the stack on one machine), ``broker`` (finding or starting
RabbitMQ; a virtual host per test run), ``demo`` (the demo workspace ``make run`` seeds)
and ``run`` (``make run``: the stack with its demo, until Ctrl-C). Runtime code never
imports this package.
"""

"""What an operator runs: the ``porchlight`` command (``cli``) and the broker's users and
their rights (``broker_access``)."""

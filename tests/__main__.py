"""Run the test suite: ``python -m tests [pytest args]``.

nameko's containers run on eventlet, which must patch the standard library before
anything else imports it — earlier than a conftest can. This is what ``nameko test``
did before nameko 2.14 dropped it.
"""

import sys
import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import pytest  # noqa: E402

sys.exit(pytest.main(sys.argv[1:]))

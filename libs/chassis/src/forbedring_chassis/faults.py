"""Named crash points for fault-injection tests.

Set FORBEDRING_CRASH_AT=<name> and the process dies (like SIGKILL: no cleanup, no offset
commit) the first time it reaches that point. Unset in production, it costs one dict lookup.
"""

import os

CRASH_ENV = "FORBEDRING_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(CRASH_ENV) == name:
        os._exit(137)

"""All SQL of the actionplan service, by section: the copy of others' facts
(`directory`), what the service owns (`plans`), and the reminder ledger (`reminders`)."""

from forbedring_actionplan.repository.directory import *  # noqa: F403
from forbedring_actionplan.repository.plans import *  # noqa: F403
from forbedring_actionplan.repository.reminders import *  # noqa: F403

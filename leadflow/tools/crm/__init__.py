"""The CRM package; the module is split into one concept per file in the next commit."""

from leadflow.tools.crm.store import *  # noqa: F403
from leadflow.tools.crm.store import Base, UtcDateTime, parse_datetime  # noqa: F401

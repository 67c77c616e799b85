"""Call test helpers. The narratives and caution notes the tests store are
registered as sentinels: the suite fails at the end if any reaches a log."""
from __future__ import annotations

import pytest

from tests.conftest import SENTINELS

NARRATIVE = "Caller says her brother Ezekiel Marchetti-Voss talked about a bridge."
CAUTION_NOTES = "Large dog named Brutus in the yard; subject known to carry a knife."
SENTINELS.update({NARRATIVE, CAUTION_NOTES})


@pytest.fixture()
def town(agencies):
    return agencies["A"]


@pytest.fixture()
def dispatcher(make_user, town):
    return make_user(town, "dispatcher")

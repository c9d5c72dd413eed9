"""Fixtures for the ledgers tests: the shared world (tests/conftest.py covers only tests/)."""

from tests import conftest

world = conftest.world
client_for = conftest.client_for

"""The test bed's fixtures (testbed/fixtures.py) for every test."""

pytest_plugins = ("testbed.fixtures",)

"""Shared pytest set-up for tests/py: the "slow" marker (tests that build a
kernel module, ~3 s each): select them with -m slow, skip with -m "not slow"."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: builds kernel modules (a few seconds each)")

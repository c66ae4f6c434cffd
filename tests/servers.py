"""Private server instances for the slow suites (filled in by tests/servers.py owners)."""

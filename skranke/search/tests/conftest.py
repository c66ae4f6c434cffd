import pytest


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The persona fixtures hash passwords; the default hasher costs ~0.3 s per user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

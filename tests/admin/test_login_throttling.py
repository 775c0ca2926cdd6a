"""Admin logins are throttled per username and address (django-axes)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password-42"


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_superuser("boss", "boss@example.com", PASSWORD)


def login(client: Client, password: str, username: str = "boss") -> int:
    response = client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password}
    )
    return int(response.status_code)


@pytest.mark.usefixtures("admin_user")
def test_the_right_password_is_refused_after_the_failure_limit() -> None:
    client = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(client, "wrong") == 200  # the form again, with an error
    assert login(client, "wrong") == 429  # the limit: locked out
    assert login(client, PASSWORD) == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.usefixtures("admin_user")
def test_the_lockout_is_per_address_and_a_success_resets_the_count() -> None:
    attacker = Client(REMOTE_ADDR="198.51.100.9")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(attacker, "wrong")
    assert login(attacker, PASSWORD) == 429

    admin = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(admin, "wrong")
    assert login(admin, PASSWORD) == 302  # logged in, redirected to /admin/
    admin.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(admin, "wrong")
    assert login(admin, PASSWORD) == 302


def test_the_defaults_are_five_failures_and_fifteen_minutes() -> None:
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60

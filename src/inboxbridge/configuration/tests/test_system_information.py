from __future__ import annotations

import django
import pytest
from django.urls import reverse

import inboxbridge

pytestmark = pytest.mark.django_db


def test_admins_see_versions_database_tasks_and_whether_microsoft_answers(client, admin_user, identity, settings):
    settings.MICROSOFT_AUTHORITY_HOST = identity.authority_host
    settings.CA_BUNDLE = str(identity.ca_file)
    client.force_login(admin_user)
    page = client.get(reverse("configuration:system-information")).content.decode()
    assert inboxbridge.__version__ in page
    assert django.get_version() in page
    assert ("SQLite" in page) or ("PostgreSQL" in page)
    assert "django_tasks" in page
    assert "not configured, disabled" in page
    assert "answers: " in page


def test_an_unreachable_authority_host_is_reported(client, admin_user, settings):
    settings.MICROSOFT_AUTHORITY_HOST = "https://127.0.0.1:9"
    client.force_login(admin_user)
    assert "does not answer" in client.get(reverse("configuration:system-information")).content.decode()

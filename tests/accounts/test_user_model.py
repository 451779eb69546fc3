"""The site's user model: accounts.User, signed in by email address, one account an address.
The whole way of a new account (invitation, password, TOTP, staff page) is followed in
test_onboarding.py."""

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts.models import User
from tests.accounts.helpers import PASSWORD, make_user


def test_the_user_model_is_accounts_user():
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert get_user_model() is User
    assert User._meta.app_label == "accounts" and User._meta.db_table == "accounts_user"
    assert User.USERNAME_FIELD == User.EMAIL_FIELD == "email"
    assert "username" not in {field.name for field in User._meta.get_fields()}


def _user_foreign_keys():
    """(model, field) for every foreign key of the project's models that names a user."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is User
    ]


@pytest.mark.django_db
def test_every_table_refers_to_the_accounts_user_table():
    """The initial migrations were written for this model: no auth_user table, and every
    foreign key to a user points at accounts_user."""
    tables = connection.introspection.table_names()
    assert "accounts_user" in tables and "auth_user" not in tables
    keys = _user_foreign_keys()
    labels = {model._meta.label for model, _field in keys}
    assert {"statements.AuditEvent", "accounts.StaffInvitation", "exports.SignatoryExport"} <= (
        labels
    )
    with connection.cursor() as cursor:
        for model, field in keys:
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            targets = {
                c["foreign_key"]
                for c in constraints.values()
                if c["foreign_key"] and c["columns"] == [field.column]
            }
            assert targets == {("accounts_user", "id")}, (model._meta.label, field.name)


@pytest.mark.django_db
def test_the_manager_makes_accounts_by_lower_case_address():
    user = User.objects.create_user("New@Example.NET")
    assert user.email == "new@example.net" and not user.has_usable_password()
    assert not user.is_staff and not user.is_superuser
    root = User.objects.create_superuser("Root@example.net", password=PASSWORD)
    assert root.is_superuser and root.is_staff and root.check_password(PASSWORD)
    with pytest.raises(ValueError):
        User.objects.create_user("")


@pytest.mark.django_db
def test_one_address_is_one_account_whatever_its_letters():
    User(email="Lead@example.net").save()  # past the manager, as a raw write would be
    with pytest.raises(IntegrityError), transaction.atomic():
        User(email="lead@example.net").save()
    assert User.objects.count() == 1


def test_the_address_signs_in_whatever_its_letters(client):
    user = make_user("lead@example.net")
    assert authenticate(username="Lead@Example.net", password=PASSWORD) == user
    response = client.post(
        reverse("account_login"), {"login": "LEAD@example.net", "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == reverse("mfa_authenticate")

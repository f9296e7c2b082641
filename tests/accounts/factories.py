"""Factories for invitations and API keys (the raw token / key is kept on the instance for tests)."""

from datetime import timedelta

import factory
from django.utils import timezone

from cbam_portal.accounts.api_keys import generate_api_key
from cbam_portal.accounts.models import ApiKey, Invitation
from cbam_portal.accounts.policy import Role
from cbam_portal.accounts.services import hash_invitation_token
from tests.factories import OrganisationFactory


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    organisation = factory.SubFactory(OrganisationFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.PREPARER
    token = factory.Sequence(lambda n: f"test-invitation-token-{n:04d}-abcdefghijklmnop")
    token_hash = factory.LazyAttribute(lambda o: hash_invitation_token(o.token))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        token = kwargs.pop("token")
        obj = super()._create(model_class, *args, **kwargs)
        obj.token = token
        return obj


class ApiKeyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApiKey

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Integration {n}")
    role = Role.PREPARER

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        full_key, prefix, key_hash = generate_api_key()
        obj = super()._create(model_class, *args, prefix=prefix, key_hash=key_hash, **kwargs)
        obj.full_key = full_key
        return obj

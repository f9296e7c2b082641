"""factory_boy factories that keep a tenant consistent."""

import factory
from django.contrib.auth import get_user_model

from cbam_portal.accounts.models import Membership, Organisation, OrganisationKind, Representation
from cbam_portal.accounts.policy import Role

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.DECLARANT
    name = factory.Sequence(lambda n: f"Importer {n} GmbH")
    country = "DE"
    eori = factory.Sequence(lambda n: f"DE{n:012d}")


class OperatorFactory(OrganisationFactory):
    kind = OrganisationKind.OPERATOR
    name = factory.Sequence(lambda n: f"Producer {n} Ltd")
    country = "TR"
    eori = ""


class RepresentativeFactory(OrganisationFactory):
    kind = OrganisationKind.REPRESENTATIVE
    name = factory.Sequence(lambda n: f"Customs Agent {n} BV")
    country = "NL"
    eori = factory.Sequence(lambda n: f"NL{n:09d}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.ADMIN


class RepresentationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Representation

    representative = factory.SubFactory(RepresentativeFactory)
    importer = factory.SubFactory(OrganisationFactory)

import pytest

from cbam_portal.core.actor import Actor
from tests.factories import MembershipFactory, RepresentativeFactory


@pytest.fixture
def actor_of():
    return lambda user: Actor(user=user, ip="127.0.0.1")


@pytest.fixture
def representative_personas(db):
    """A customs representative with an admin and a viewer."""
    from cbam_portal.accounts.policy import Role

    organisation = RepresentativeFactory()
    owner = MembershipFactory(organisation=organisation, role=Role.ADMIN).user
    viewer = MembershipFactory(organisation=organisation, role=Role.VIEWER).user
    outsider = MembershipFactory(organisation=RepresentativeFactory(), role=Role.ADMIN).user
    return {"organisation": organisation, "owner": owner, "viewer": viewer, "outsider": outsider}

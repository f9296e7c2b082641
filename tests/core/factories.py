"""Factories for audit events and jobs, kept inside one organisation."""

import factory

from cbam_portal.core.models import AuditEvent, Job, JobStatus
from tests.factories import OrganisationFactory


class AuditEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AuditEvent

    organisation = factory.SubFactory(OrganisationFactory)
    actor = None
    actor_label = factory.LazyAttribute(lambda o: o.actor.email if o.actor else "system")
    verb = "organisation.updated"
    target_type = "accounts.Organisation"
    target_id = factory.LazyAttribute(lambda o: str(o.organisation.pk))
    target_repr = factory.LazyAttribute(lambda o: o.organisation.name)
    before = None
    after = None
    ip = "192.0.2.10"


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    organisation = factory.SubFactory(OrganisationFactory)
    kind = "test.ok"
    status = JobStatus.QUEUED
    params = factory.LazyFunction(dict)

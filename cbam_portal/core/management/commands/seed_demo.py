"""Seed a demo: a declarant, an operator, a customs representative acting for two importers, and
users for every role. Safe to run again: existing demo data is kept and the credentials printed."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse

from cbam_portal.accounts import services as accounts
from cbam_portal.accounts.models import Membership, Organisation, OrganisationKind
from cbam_portal.accounts.policy import Role
from cbam_portal.core.actor import Actor
from emissions.demo import seed_operator_demo

DEMO_PASSWORD = "cbam-demo-2026"

DECLARANT = {"name": "Rheinstahl Import GmbH", "eori": "DE123456789012345", "country": "DE"}
OPERATOR = {"name": "Anatolia Cement & Steel A.S.", "country": "TR", "registration_number": "TR-IST-0458812"}
REPRESENTATIVE = {"name": "Lowlands Customs Services B.V.", "eori": "NL812345678", "country": "NL"}
IMPORTERS = [
    {"name": "Nordic Aluminium Trading AB", "eori": "SE5567891234", "country": "SE"},
    {"name": "Baltic Fertiliser Import UAB", "eori": "LT302345678", "country": "LT"},
]

# (e-mail, full name, organisation key, role, what the person does)
USERS = [
    ("anna.admin@rheinstahl.example", "Anna Admin", "declarant", Role.ADMIN, "declarant administrator"),
    ("paul.preparer@rheinstahl.example", "Paul Preparer", "declarant", Role.PREPARER, "prepares imports and declarations"),
    ("rita.reviewer@rheinstahl.example", "Rita Reviewer", "declarant", Role.REVIEWER, "compliance officer: reviews and approves"),
    ("victor.viewer@rheinstahl.example", "Victor Viewer", "declarant", Role.VIEWER, "read-only (e.g. finance)"),
    ("omar.operator@anatolia.example", "Omar Operator", "operator", Role.ADMIN, "operator administrator (non-EU producer)"),
    ("pelin.preparer@anatolia.example", "Pelin Preparer", "operator", Role.PREPARER, "enters installation emissions data"),
    ("clara.customs@lowlands.example", "Clara Customs", "representative", Role.ADMIN, "customs representative for two importers"),
    ("ruben.reviewer@lowlands.example", "Ruben Reviewer", "representative", Role.REVIEWER, "representative's compliance officer"),
]


class Command(BaseCommand):
    help = "Create demo organisations and users (idempotent) and print how to sign in."

    def handle(self, *args, **options):
        # Demo members are invited and accept at once: their invitation e-mails would only be noise.
        quiet = override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}})
        with quiet, transaction.atomic():
            created = self._seed()
        self.stdout.write(self.style.SUCCESS("Demo data " + ("created." if created else "already present.")))
        self.stdout.write("")
        login_url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("account_login")
        self.stdout.write(f"Sign in at {login_url} with any of these users; every demo password is: {DEMO_PASSWORD}")
        width = max(len(u[0]) for u in USERS)
        for email, _name, org_key, role, what in USERS:
            self.stdout.write(f"  {email.ljust(width)}  {role:<9} {org_key:<15} {what}")

    def _seed(self) -> bool:
        User = get_user_model()
        if Organisation.objects.filter(eori=DECLARANT["eori"]).exists():
            return False
        users = {}
        for email, name, _org, _role, _what in USERS:
            user = User.objects.filter(email=email).first() or User.objects.create_user(email, DEMO_PASSWORD, full_name=name)
            users[email] = user

        def founder(org_key):
            return next(users[e] for e, _n, k, r, _w in USERS if k == org_key and r == Role.ADMIN)

        orgs = {
            "declarant": accounts.organisation_create(
                actor=Actor(user=founder("declarant")), kind=OrganisationKind.DECLARANT, **DECLARANT
            ),
            "operator": accounts.organisation_create(
                actor=Actor(user=founder("operator")), kind=OrganisationKind.OPERATOR, **OPERATOR
            ),
            "representative": accounts.organisation_create(
                actor=Actor(user=founder("representative")), kind=OrganisationKind.REPRESENTATIVE, **REPRESENTATIVE
            ),
        }
        for email, _name, org_key, role, _what in USERS:
            if users[email] == founder(org_key):
                continue
            # Demo members join the way real ones do: invited by the administrator, then accepting.
            _invitation, token = accounts.invitation_create(
                actor=Actor(user=founder(org_key)), organisation=orgs[org_key], email=email, role=role
            )
            accounts.invitation_accept(actor=Actor(user=users[email]), token=token)
        for importer in IMPORTERS:
            accounts.representation_create(
                actor=Actor(user=founder("representative")), representative=orgs["representative"], **importer
            )
        # The operator's side: two installations, one verified 2026 report shared with the declarant,
        # and an open data request from the declarant.
        seed_operator_demo(operator=orgs["operator"], declarant=orgs["declarant"], operator_admin=founder("operator"))
        assert Membership.objects.filter(organisation__in=orgs.values()).count() == len(USERS)
        return True

"""Seed a demo: a declarant, an operator, a customs representative acting for two importers, and
users for every role. Safe to run again: existing demo data is kept and the credentials printed."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.urls import reverse

from cbam_portal.accounts import services as accounts
from cbam_portal.accounts.models import Membership, Organisation, OrganisationKind
from cbam_portal.accounts.policy import Role
from cbam_portal.core.actor import Actor
from cbam_portal.reference.models import CnGood
from declarations.services import declarations, imports, suppliers
from emissions.demo import seed_operator_demo

DEMO_PASSWORD = "cbam-demo-2026"

DECLARANT = {"name": "Rheinstahl Import GmbH", "eori": "DE123456789012345", "country": "DE"}
OPERATOR = {"name": "Anatolia Cement & Steel A.S.", "country": "TR", "registration_number": "TR-IST-0458812"}
REPRESENTATIVE = {"name": "Lowlands Customs Services B.V.", "eori": "NL812345678", "country": "NL"}
IMPORTERS = [
    {"name": "Nordic Aluminium Trading AB", "eori": "SE5567891234", "country": "SE"},
    {"name": "Baltic Fertiliser Import UAB", "eori": "LT302345678", "country": "LT"},
]

# Customs lines of the demo declarant: (MRN, line, values, from the shared Turkish steelworks?)
IMPORT_LINES = [
    ("26DE0000000000A101", 1, {"released_on": "2026-02-12", "cn_code": "72081000", "origin_country": "TR", "net_mass_tonnes": "420.5"}, True),
    ("26DE0000000000A101", 2, {"released_on": "2026-02-12", "cn_code": "72139120", "origin_country": "TR", "net_mass_tonnes": "180"}, True),
    ("26DE0000000000A102", 1, {"released_on": "2026-03-03", "cn_code": "72081000", "origin_country": "CN", "net_mass_tonnes": "100"}, False),
    ("26DE0000000000A103", 1, {"released_on": "2026-05-20", "cn_code": "76011010", "origin_country": "IN", "net_mass_tonnes": "250"}, False),
    ("26DE0000000000A104", 1, {"released_on": "2026-06-08", "cn_code": "25232900", "origin_country": "EG", "net_mass_tonnes": "800",
                                "functional_unit_quantity": "720"}, False),
    ("26DE0000000000A105", 1, {"released_on": "2026-09-15", "cn_code": "72193100", "origin_country": "IN", "net_mass_tonnes": "64.2"}, False),
    ("26DE0000000000A106", 1, {"released_on": "2026-10-02", "cn_code": "72081000", "origin_country": "CH", "net_mass_tonnes": "5"}, False),
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
        if not CnGood.objects.exists():
            raise CommandError("The demo needs the reference data: run `python manage.py load_reference_data` first.")
        # Demo members are invited and accept at once: their invitation e-mails would only be noise.
        quiet = override_settings(MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}})
        with quiet, transaction.atomic():
            created = self._seed()
        if created:
            # After the lines are committed, so that their "inputs changed" hooks find no draft yet
            # and the draft is computed once, here.
            declarant = Organisation.objects.get(eori=DECLARANT["eori"])
            preparer = get_user_model().objects.get(email="paul.preparer@rheinstahl.example")
            declarations.declaration_create(actor=Actor(user=preparer), organisation=declarant, year=2026)
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
        operator_demo = seed_operator_demo(
            operator=orgs["operator"], declarant=orgs["declarant"], operator_admin=founder("operator")
        )
        self._seed_imports(
            declarant=orgs["declarant"],
            operator=orgs["operator"],
            steelworks=operator_demo.steelworks,
            actor=Actor(user=next(users[e] for e, *_r in USERS if e.startswith("paul.preparer"))),
        )
        assert Membership.objects.filter(organisation__in=orgs.values()).count() == len(USERS)
        return True

    def _seed_imports(self, *, declarant, operator, steelworks, actor) -> None:
        """A year of customs lines: several countries and goods, actual data for the Turkish steel
        (linked to the shared installation), default values elsewhere, one out-of-scope line."""
        supplier = suppliers.supplier_create(
            actor=actor, organisation=declarant, name=OPERATOR["name"], country="TR",
            email="sales@anatolia.example", operator_org=operator,
        )
        for mrn, line_no, values, linked in IMPORT_LINES:
            imports.import_line_create(
                actor=actor,
                organisation=declarant,
                values={"mrn": mrn, "line_no": line_no, **values},
                supplier=supplier if linked else None,
                installation=steelworks if linked else None,
            )

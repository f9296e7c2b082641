"""Seed a demo: a declarant, two operators, a customs representative acting for two importers, and
users for every role. Safe to run again: existing demo data is kept and the credentials printed.

The declarant's 2026 draft declaration reproduces the domain's worked examples 8 (default values,
China hot-rolled coil) and 9 (actual values, Omani primary aluminium); with the Commission's
workbooks loaded (`make reference` does when they are available) example 8 is exact to the
workbook's default value.
"""

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
from declarations.demo import seed_declarant_demo, seed_importer_lines
from declarations.models import Declaration
from declarations.services import declarations
from emissions.demo import seed_operator_demo, seed_smelter_demo
from emissions.see import EUR_PLACES, quantise

YEAR = 2026

DEMO_PASSWORD = "cbam-demo-2026"

DECLARANT = {"name": "Rheinstahl Import GmbH", "eori": "DE123456789012345", "country": "DE"}
OPERATOR = {"name": "Anatolia Cement & Steel A.S.", "country": "TR", "registration_number": "TR-IST-0458812"}
SMELTER_OPERATOR = {
    "name": "Batinah Primary Aluminium LLC",
    "country": "OM",
    "registration_number": "OM-CR-1298743",
}
REPRESENTATIVE = {"name": "Lowlands Customs Services B.V.", "eori": "NL812345678", "country": "NL"}
IMPORTERS = [
    {"name": "Nordic Aluminium Trading AB", "eori": "SE5567891234", "country": "SE"},
    {"name": "Baltic Fertiliser Import UAB", "eori": "LT302345678", "country": "LT"},
]

# (e-mail, full name, organisation key, role, what the person does)
USERS = [
    ("anna.admin@rheinstahl.example", "Anna Admin", "declarant", Role.ADMIN, "declarant administrator"),
    (
        "paul.preparer@rheinstahl.example",
        "Paul Preparer",
        "declarant",
        Role.PREPARER,
        "prepares imports and declarations",
    ),
    (
        "rita.reviewer@rheinstahl.example",
        "Rita Reviewer",
        "declarant",
        Role.REVIEWER,
        "compliance officer: reviews and approves",
    ),
    (
        "victor.viewer@rheinstahl.example",
        "Victor Viewer",
        "declarant",
        Role.VIEWER,
        "read-only (e.g. finance)",
    ),
    (
        "omar.operator@anatolia.example",
        "Omar Operator",
        "operator",
        Role.ADMIN,
        "operator administrator (non-EU producer)",
    ),
    (
        "pelin.preparer@anatolia.example",
        "Pelin Preparer",
        "operator",
        Role.PREPARER,
        "enters installation emissions data",
    ),
    (
        "salim.smelter@batinah-aluminium.example",
        "Salim Smelter",
        "smelter",
        Role.ADMIN,
        "operator administrator (aluminium smelter, Oman)",
    ),
    (
        "clara.customs@lowlands.example",
        "Clara Customs",
        "representative",
        Role.ADMIN,
        "customs representative for two importers",
    ),
    (
        "ruben.reviewer@lowlands.example",
        "Ruben Reviewer",
        "representative",
        Role.REVIEWER,
        "representative's compliance officer",
    ),
]


class Command(BaseCommand):
    help = "Create demo organisations and users (idempotent) and print how to sign in."

    def handle(self, *args, **options):
        if not CnGood.objects.exists():
            raise CommandError(
                "The demo needs the reference data: run `python manage.py load_reference_data` first."
            )
        # Demo members are invited and accept at once: their invitation e-mails would only be noise.
        quiet = override_settings(
            MAILERS={"default": {"BACKEND": "django.core.mail.backends.dummy.EmailBackend"}}
        )
        with quiet, transaction.atomic():
            created = self._seed()
        if created:
            # After the lines are committed, so that their "inputs changed" hooks find no draft yet
            # and each draft is computed once, here.
            self._draft_declarations()
        self.stdout.write(self.style.SUCCESS("Demo data " + ("created." if created else "already present.")))
        self.stdout.write("")
        login_url = settings.PORTAL_BASE_URL.rstrip("/") + reverse("account_login")
        self.stdout.write(
            f"Sign in at {login_url} with any of these users; every demo password is: {DEMO_PASSWORD}"
        )
        width = max(len(u[0]) for u in USERS)
        for email, _name, org_key, role, what in USERS:
            self.stdout.write(f"  {email.ljust(width)}  {role:<9} {org_key:<15} {what}")
        self._summary()

    def _draft_declarations(self) -> None:
        User = get_user_model()
        declarant = Organisation.objects.get(eori=DECLARANT["eori"])
        preparer = User.objects.get(email="paul.preparer@rheinstahl.example")
        declarations.declaration_create(actor=Actor(user=preparer), organisation=declarant, year=YEAR)
        clara = User.objects.get(email="clara.customs@lowlands.example")
        for importer in Organisation.objects.filter(eori__in=[i["eori"] for i in IMPORTERS]).order_by("name"):
            declarations.declaration_create(actor=Actor(user=clara), organisation=importer, year=YEAR)

    def _summary(self) -> None:
        """The declarant's draft: its groups and the reference data they were computed with."""
        draft = (
            Declaration.objects.filter(organisation__eori=DECLARANT["eori"], year=YEAR)
            .order_by("-version")
            .first()
        )
        if draft is None:
            return
        self.stdout.write("")
        self.stdout.write(
            f"{DECLARANT['name']}: {YEAR} declaration v{draft.version} ({draft.status}), "
            f"{draft.certificates.normalize():f} certificates, EUR {quantise(draft.cost_eur, EUR_PLACES):,}"
        )
        datasets = {}
        for group in draft.groups.select_related("installation").order_by("quarter", "cn_code", "country"):
            price = (
                "no price yet" if group.price_eur is None else f"EUR {quantise(group.cost_eur, EUR_PLACES):,}"
            )
            where = (
                f" {group.installation.name_en or group.installation.name}" if group.installation_id else ""
            )
            self.stdout.write(
                f"  Q{group.quarter} {group.cn_code} {group.country} {group.source:<7} "
                f"{group.mass_tonnes.normalize():f} t  {group.certificates.normalize():f} certificates  {price}{where}"
            )
            datasets.update(group.datasets)
        versions = ", ".join(
            f"{kind.replace('_', ' ')} {info['version']}" for kind, info in sorted(datasets.items())
        )
        self.stdout.write(f"Reference data used: {versions}")

    def _seed(self) -> bool:
        User = get_user_model()
        if Organisation.objects.filter(eori=DECLARANT["eori"]).exists():
            return False
        users = {}
        for email, name, _org, _role, _what in USERS:
            user = User.objects.filter(email=email).first() or User.objects.create_user(
                email, DEMO_PASSWORD, full_name=name
            )
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
            "smelter": accounts.organisation_create(
                actor=Actor(user=founder("smelter")), kind=OrganisationKind.OPERATOR, **SMELTER_OPERATOR
            ),
            "representative": accounts.organisation_create(
                actor=Actor(user=founder("representative")),
                kind=OrganisationKind.REPRESENTATIVE,
                **REPRESENTATIVE,
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
        importers = [
            accounts.representation_create(
                actor=Actor(user=founder("representative")), representative=orgs["representative"], **importer
            )
            for importer in IMPORTERS
        ]
        # The operators' side: two Turkish installations, one verified 2026 report shared with the
        # declarant and an open data request from it; an Omani smelter's verified report, shared too.
        operator_demo = seed_operator_demo(
            operator=orgs["operator"], declarant=orgs["declarant"], operator_admin=founder("operator")
        )
        smelter_demo = seed_smelter_demo(
            operator=orgs["smelter"], declarant=orgs["declarant"], operator_admin=founder("smelter")
        )
        seed_declarant_demo(
            declarant=orgs["declarant"],
            actor=Actor(user=users["paul.preparer@rheinstahl.example"]),
            operators={"anatolia": orgs["operator"], "batinah": orgs["smelter"]},
            steelworks=operator_demo.steelworks,
            smelter=smelter_demo.installation,
        )
        for importer in importers:
            seed_importer_lines(importer=importer, actor=Actor(user=founder("representative")))
        assert Membership.objects.filter(organisation__in=orgs.values()).count() == len(USERS)
        return True

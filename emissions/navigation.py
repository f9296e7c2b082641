"""Main-menu entries of the operator side (the sharing pages register theirs in navigation_sharing)."""

from django.utils.translation import gettext_lazy as _

from cbam_portal.core.navigation import register_nav_item

from . import navigation_sharing  # noqa: F401

register_nav_item(
    _("Installations"),
    "emissions:installation_list",
    kinds=("operator",),
    active=("emissions:installation_*",),
    order=10,
    description=_("Your installations, their production processes and who they are shared with."),
)
register_nav_item(
    _("Reports"),
    "emissions:report_list",
    kinds=("operator",),
    active=(
        "emissions:report_*",
        "emissions:process_*",
        "emissions:good_*",
        "emissions:purchased_*",
        "emissions:internal_*",
        "emissions:carbon_price_*",
    ),
    order=11,
    description=_("Annual emissions reports: processes, goods and their specific embedded emissions."),
)

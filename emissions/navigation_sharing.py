"""Main-menu entries of the sharing pages: the operator's data-request inbox and the declarant's
"Shared with us". Imported by emissions.navigation (and by the sharing views); registering twice
replaces the entry."""

from django.utils.translation import gettext_lazy as _

from cbam_portal.core.navigation import register_nav_item

register_nav_item(
    _("Data requests"),
    "emissions:data_request_list",
    kinds=("operator",),
    active=("emissions:data_request_*",),
    order=40,
    description=_("Requests for emissions data from your customers, and your answers."),
)
register_nav_item(
    _("Shared with us"),
    "emissions:shared_list",
    kinds=("declarant",),
    active=("emissions:shared_*",),
    order=45,
    description=_("Emissions reports that operators shared with you, for actual data."),
)

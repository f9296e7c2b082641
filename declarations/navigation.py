from django.utils.translation import gettext_lazy as _

from cbam_portal.core.navigation import register_nav_item

register_nav_item(
    _("Imports"),
    "declarations:import_list",
    kinds=("declarant",),
    active=("declarations:import_*",),
    order=20,
    description=_("Upload customs extracts and check the imported lines."),
)
register_nav_item(
    _("Threshold"),
    "declarations:threshold",
    kinds=("declarant",),
    active=("declarations:threshold*",),
    order=25,
    description=_("How close the year's imports are to the 50-tonne exemption."),
)
register_nav_item(
    _("Suppliers"),
    "declarations:supplier_list",
    kinds=("declarant",),
    active=("declarations:supplier_*", "declarations:data_request_*"),
    order=30,
    description=_("Your suppliers, their installations and the data you asked them for."),
)
register_nav_item(
    _("Declarations"),
    "declarations:declaration_list",
    kinds=("declarant",),
    active=("declarations:declaration_*",),
    order=15,
    description=_("Annual declarations: certificates due, review and filing."),
)
register_nav_item(
    _("Transitional reports"),
    "declarations:historic_report_list",
    kinds=("declarant",),
    active=("declarations:historic_*",),
    order=35,
    description=_("Quarterly reports of the transitional period, imported for reference."),
)

from django.utils.translation import gettext_lazy as _

from cbam_portal.core.navigation import register_nav_item

register_nav_item(_("Imports"), "declarations:import_list", kinds=("declarant",), active=("declarations:import_*",), order=20)
register_nav_item(_("Threshold"), "declarations:threshold", kinds=("declarant",), active=("declarations:threshold*",), order=25)
register_nav_item(_("Suppliers"), "declarations:supplier_list", kinds=("declarant",), active=("declarations:supplier_*", "declarations:data_request_*"), order=30)
register_nav_item(_("Declarations"), "declarations:declaration_list", kinds=("declarant",), active=("declarations:declaration_*",), order=15)

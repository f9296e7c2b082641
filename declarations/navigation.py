from django.utils.translation import gettext_lazy as _

from cbam_portal.core.navigation import register_nav_item

register_nav_item(_("Imports"), "declarations:import_list", kinds=("declarant",), active=("declarations:import_*",), order=20)

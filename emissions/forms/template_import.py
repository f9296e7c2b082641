"""Forms: uploading a filled Commission communication template."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Installation


class TemplateUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Communication template (.xlsx)"),
        help_text=_(
            "The Commission's CBAM communication template, filled (sheets Summary_Communication, "
            "A_InstData, D_Processes, E_PurchPrec)."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
    installation = forms.ModelChoiceField(
        label=_("Installation"),
        queryset=Installation.objects.none(),
        required=False,
        empty_label=_("Create a new installation from the template"),
        help_text=_(
            "Import into one of your installations, or let the template's installation data create one."
        ),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["installation"].queryset = Installation.objects.filter(organisation=organisation)

"""Forms of the annual declaration pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import EmissionsSource


class DeclarationCreateForm(forms.Form):
    year = forms.IntegerField(label=_("Year of import"), min_value=2026, max_value=2100)


class OverrideForm(forms.Form):
    source = forms.ChoiceField(
        label=_("Source of emissions"),
        choices=[("", _("The portal's choice")), *EmissionsSource.choices],
        required=False,
    )
    reason = forms.CharField(
        label=_("Justification"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class CommentForm(forms.Form):
    text = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("What needs changing"), widget=forms.Textarea(attrs={"rows": 2}))

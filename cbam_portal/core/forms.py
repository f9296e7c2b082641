from django import forms
from django.utils.translation import gettext_lazy as _

from .jobs import job_kinds
from .models import JobStatus
from .selectors import AuditFilters


class JobFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *JobStatus.choices]
        kinds = job_kinds() if kinds is None else kinds
        self.fields["kind"].choices = [("", _("Any kind"))] + [(k.kind, k.label) for k in kinds]


class AuditFilterForm(forms.Form):
    verb = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(
        label=_("Actor"), required=False, max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("E-mail or API key name")}),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, verbs=(), **kwargs):
        super().__init__(*args, **kwargs)
        verbs = list(verbs)
        wanted = self.data.get("verb") if self.is_bound else None
        if wanted and wanted not in verbs:
            # A verb no longer present still filters (to nothing) rather than erroring.
            verbs.append(wanted)
        self.fields["verb"].choices = [("", _("Any action"))] + [(v, v) for v in verbs]

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("“To” must be on or after “From”."))
        return data

    def filters(self) -> AuditFilters:
        """The filters to apply; only call after `is_valid()`."""
        data = self.cleaned_data
        return AuditFilters(
            verb=data.get("verb") or "",
            actor=(data.get("actor") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

"""Pages: exporting an annual declaration (any format of the exporter registry, as a background job)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.models import OrganisationKind
from cbam_portal.core.actor import Actor

from ..exports import exporters
from ..exports.services import declaration_export_enqueue
from ..selectors import declarations as selectors

KINDS = (OrganisationKind.DECLARANT,)


class ExportForm(forms.Form):
    format = forms.ChoiceField(label=gettext_lazy("Format"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(e.key, e.label) for e in exporters()]


def _menu_context(declaration, **extra) -> dict:
    return {"declaration": declaration, "exporters": exporters(), **extra}


@org_required(kinds=KINDS)
@require_GET
def declaration_export(request, pk: int):
    """The formats to export the declaration in (the menu alone when htmx asks for it)."""
    declaration = selectors.declaration_get(request.access, pk)
    if request.htmx or request.GET.get("fragment") == "menu":
        return render(request, "declarations/export/_menu.html", _menu_context(declaration))
    return render(request, "declarations/export/page.html", _menu_context(declaration, form=ExportForm()))


@org_required(kinds=KINDS)
@require_POST
def declaration_export_start(request, pk: int):
    """Start the export job; htmx gets the progress component, a plain form the job page."""
    declaration = selectors.declaration_get(request.access, pk)
    form = ExportForm(request.POST)
    if form.is_valid():
        try:
            job = declaration_export_enqueue(
                actor=Actor.from_request(request),
                declaration=declaration,
                format_key=form.cleaned_data["format"],
            )
        except ValidationError as exc:
            form.add_error("format", " ".join(exc.messages))
        else:
            job.refresh_from_db()  # with eager tasks it has already run
            if request.htmx:
                return render(request, "core/_job_progress.html", {"job": job})
            messages.success(request, _("The export has started; the file will be ready on this page."))
            return redirect("core:job_detail", pk=job.pk)
    if request.htmx:
        errors = " ".join(str(e) for e in form.errors.get("format", []))
        return render(request, "core/_export_error.html", {"errors": errors}, status=400)
    return render(request, "declarations/export/page.html", _menu_context(declaration, form=form), status=400)


urlpatterns = [
    path("annual/<int:pk>/export/", declaration_export, name="declaration_export"),
    path("annual/<int:pk>/export/start/", declaration_export_start, name="declaration_export_start"),
]

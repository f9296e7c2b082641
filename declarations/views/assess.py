"""Quick assessment of one good. Public, like the reference data it reads: no organisation,
no sign-in needed, and nothing is saved."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from ..assessment import AssessmentError, assess_good, assessment_as_dict
from ..forms.assess import AssessForm


@require_http_methods(["GET", "POST"])
def assess(request):
    """Form → :func:`declarations.assessment.assess_good` → result panel (form and panel only for htmx)."""
    assessment = None
    if request.method == "POST":
        form = AssessForm(request.POST)
        if form.is_valid():
            try:
                assessment = assess_good(form.assessment_input())
            except AssessmentError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    else:
        form = AssessForm(request.GET or None) if request.GET else AssessForm()
    is_htmx = bool(getattr(request, "htmx", False))
    # htmx does not swap 4xx responses by default, so its partial keeps 200 and shows the errors.
    status = 400 if form.is_bound and form.errors and not is_htmx else 200
    template = "declarations/assess/_body.html" if is_htmx else "declarations/assess/page.html"
    figures = assessment_as_dict(assessment) if assessment is not None else None
    return render(
        request, template, {"form": form, "assessment": assessment, "figures": figures}, status=status
    )


urlpatterns = [
    path("assess/", assess, name="assess"),
]

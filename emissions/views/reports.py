"""Views: emissions reports — detail with results and "why" traces, editing a draft's rows,
submit, verify, correct. Preparers edit and submit; viewers read; outsiders get 404."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import floatformat
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from cbam_portal.core.csv_export import SafeCsvWriter

from ..forms.reports import (
    CarbonPriceForm,
    GoodForm,
    InternalPrecursorForm,
    ProcessForm,
    PurchasedPrecursorForm,
    ReportCreateForm,
    ReportFilterForm,
    VerifyForm,
)
from ..models import CarbonPriceDue, InternalPrecursor, ProcessGood, ProductionProcess, PurchasedPrecursor
from ..see import quantise
from ..selectors import reports as selectors
from ..selectors.installations import installation_get
from ..services import reports as services
from .installations import OPERATOR, apply_errors

EDIT = Capability.EDIT
DISPLAY_FIELDS = [
    f
    for f in services.PROCESS_FIELDS
    if f not in ("key", "name", "aggregated_category", "route", "is_joint", "activity_level", "activity_unit")
]
ALWAYS_SHOWN = {
    "activity_level",
    "direct_emissions_t_co2e",
    "electricity_consumed_mwh",
    "electricity_ef_t_co2_per_mwh",
}


def _number(value):
    """Monitored values as entered: all significant decimals (up to 6), digits grouped."""
    return floatformat(value, "-6g") if isinstance(value, Decimal) else value


def _detail_url(report) -> str:
    return reverse("emissions:report_detail", kwargs={"pk": report.pk})


def _draft_or_redirect(request, report):
    if not report.is_editable:
        messages.error(
            request, _("This version is no longer a draft and cannot be changed; create a correction.")
        )
        return redirect(_detail_url(report))
    return None


def _row_form(
    request, *, report, form, title: str, save, template: str = "emissions/reports/row_form.html", extra=None
):
    """Validate `form`, call `save(form)` (one service call), redirect to the report; errors next to fields."""
    if (blocked := _draft_or_redirect(request, report)) is not None:
        return blocked
    if request.method == "POST" and form.is_valid():
        try:
            save(form)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(_detail_url(report))
    context = {"report": report, "form": form, "title": title, "cancel_url": _detail_url(report)}
    context.update(extra or {})
    return render(request, template, context)


def _delete(request, *, report, call, label: str):
    if (blocked := _draft_or_redirect(request, report)) is not None:
        return blocked
    try:
        call()
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("%(label)s was removed.") % {"label": label})
    return redirect(_detail_url(report))


# --- reports -------------------------------------------------------------------------------


@org_required(kinds=OPERATOR)
def report_list(request):
    form = ReportFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    reports = list(
        selectors.report_list(request.access, status=filters.get("status"), year=filters.get("year"))
    )
    return render(request, "emissions/reports/list.html", {"reports": reports, "filter_form": form})


@org_required(kinds=OPERATOR)
def report_results_csv(request, pk: int):
    """The results table as CSV (5 decimals, as shown)."""
    report = selectors.report_get(request.access, pk)
    writer = SafeCsvWriter(
        [
            _("Process"),
            _("CN code"),
            _("SEE direct"),
            _("SEE indirect"),
            _("SEE total"),
            _("Default share"),
            _("Embedded electricity (MWh/unit)"),
            _("Annex II"),
        ]
    )
    for result in report.results.all():
        writer.writerow(
            [
                result.process.key,
                result.cn_code,
                quantise(result.see_direct),
                quantise(result.see_indirect),
                quantise(result.see_total),
                quantise(result.default_share),
                quantise(result.embedded_electricity_mwh_per_unit),
                "yes" if result.annex_ii else "no",
            ]
        )
    response = HttpResponse(writer.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"see-{report.installation_id}-{report.year}-v{report.version}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@org_required(capability=EDIT, kinds=OPERATOR)
@require_POST
def report_create(request, installation_pk: int):
    installation = installation_get(request.access, installation_pk)
    form = ReportCreateForm(request.POST)
    if form.is_valid():
        try:
            report = services.report_create(
                actor=Actor.from_request(request), installation=installation, year=form.cleaned_data["year"]
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("The %(year)s report was started.") % {"year": report.year})
            return redirect(_detail_url(report))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, _("Reporting year: %(error)s") % {"error": message})
    return redirect("emissions:installation_detail", pk=installation.pk)


@org_required(kinds=OPERATOR)
def report_detail(request, pk: int):
    report = selectors.report_get(request.access, pk)
    processes = list(report.processes.all())
    for process in processes:
        process.display_rows = [
            (
                ProductionProcess._meta.get_field(name).verbose_name,
                _number(getattr(process, name)),
                process.not_available.get(name, ""),
            )
            for name in DISPLAY_FIELDS
            if getattr(process, name) or name in process.not_available or name in ALWAYS_SHOWN
        ]
    results = list(report.results.all())
    access = request.access
    editable = report.is_editable and access.can(EDIT)
    return render(
        request,
        "emissions/reports/detail.html",
        {
            "report": report,
            "installation": report.installation,
            "processes": processes,
            "results": results,
            "carbon_prices": list(report.carbon_prices.all()),
            "not_available": selectors.not_available_items(report),
            "versions": selectors.report_versions(report),
            "editable": editable,
            "can_submit": report.is_editable and access.can(Capability.SUBMIT),
            "can_verify": report.status == "submitted" and access.can(Capability.SUBMIT),
            "can_correct": report.status in ("submitted", "verified")
            and access.can(EDIT)
            and not _is_corrected(report),
        },
    )


def _is_corrected(report) -> bool:
    try:
        return report.superseded_by is not None
    except report.__class__.superseded_by.RelatedObjectDoesNotExist:
        return False


@org_required(capability=Capability.SUBMIT, kinds=OPERATOR)
def report_submit(request, pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    if (blocked := _draft_or_redirect(request, report)) is not None:
        return blocked
    if request.method == "POST":
        try:
            services.report_submit(actor=Actor.from_request(request), report=report)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request,
                _("Version %(v)s was submitted; it can no longer be changed.") % {"v": report.version},
            )
            return redirect(_detail_url(report))
    return render(request, "emissions/reports/submit.html", {"report": report})


@org_required(capability=Capability.SUBMIT, kinds=OPERATOR)
def report_verify(request, pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    form = VerifyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.report_verify(actor=Actor.from_request(request), report=report, **form.cleaned_data)
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, _("The verification was recorded."))
            return redirect(_detail_url(report))
    return render(request, "emissions/reports/verify.html", {"report": report, "form": form})


@org_required(capability=EDIT, kinds=OPERATOR)
@require_POST
def report_correct(request, pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    try:
        new = services.report_correct(actor=Actor.from_request(request), report=report)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(_detail_url(report))
    messages.success(
        request, _("Version %(v)s was created as a draft copy; edit and submit it.") % {"v": new.version}
    )
    return redirect(_detail_url(new))


@org_required(kinds=OPERATOR)
def report_verification_download(request, pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    if not report.verification_report:
        raise Http404(_("No verification report is attached."))
    return FileResponse(
        report.verification_report.open("rb"),
        as_attachment=True,
        filename=report.verification_report_name or "verification-report",
    )


# --- processes -----------------------------------------------------------------------------


@org_required(capability=EDIT, kinds=OPERATOR)
def process_edit(request, pk: int, process_pk: int | None = None):
    report = selectors.report_get_for_edit(request.access, pk)
    process = selectors.process_get(report, process_pk) if process_pk else None
    initial = None if process else {"key": f"P{report.processes.count() + 1}"}
    form = ProcessForm(request.POST or None, instance=process, initial=initial)

    def save(form):
        services.process_save(
            actor=Actor.from_request(request), report=report, process=process, **form.service_fields()
        )

    title = _("Production process %(key)s") % {"key": process.key} if process else _("New production process")
    return _row_form(
        request,
        report=report,
        form=form,
        title=title,
        save=save,
        template="emissions/reports/process_form.html",
        extra={"categories": selectors.aggregated_categories()},
    )


@org_required(capability=EDIT, kinds=OPERATOR)
@require_POST
def process_delete(request, pk: int, process_pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    process = selectors.process_get(report, process_pk)
    return _delete(
        request,
        report=report,
        label=str(process),
        call=lambda: services.process_delete(actor=Actor.from_request(request), process=process),
    )


# --- goods ---------------------------------------------------------------------------------


def _good(report, pk) -> ProcessGood:
    return get_object_or_404(ProcessGood.objects.select_related("process"), process__report=report, pk=pk)


@org_required(capability=EDIT, kinds=OPERATOR)
def good_edit(request, pk: int, process_pk: int, good_pk: int | None = None):
    report = selectors.report_get_for_edit(request.access, pk)
    process = selectors.process_get(report, process_pk)
    good = _good(report, good_pk) if good_pk else None
    if good is not None and good.process_id != process.pk:
        raise Http404
    form = GoodForm(request.POST or None, good=good)

    def save(form):
        services.good_save(
            actor=Actor.from_request(request), process=process, good=good, **form.service_fields()
        )

    return _row_form(
        request,
        report=report,
        form=form,
        save=save,
        template="emissions/reports/good_form.html",
        title=_("Good of %(process)s") % {"process": process},
        extra={"process": process, "parameters": services.QUALIFYING_PARAMETERS},
    )


@org_required(capability=EDIT, kinds=OPERATOR)
@require_POST
def good_delete(request, pk: int, good_pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    good = _good(report, good_pk)
    return _delete(
        request,
        report=report,
        label=_("CN %(code)s") % {"code": good.cn_code},
        call=lambda: services.good_delete(actor=Actor.from_request(request), good=good),
    )


# --- purchased precursors ------------------------------------------------------------------


def _purchased(report, pk) -> PurchasedPrecursor:
    return get_object_or_404(
        PurchasedPrecursor.objects.select_related("process"), process__report=report, pk=pk
    )


@org_required(capability=EDIT, kinds=OPERATOR)
def purchased_edit(request, pk: int, process_pk: int, precursor_pk: int | None = None):
    report = selectors.report_get_for_edit(request.access, pk)
    process = selectors.process_get(report, process_pk)
    precursor = _purchased(report, precursor_pk) if precursor_pk else None
    if precursor is not None and precursor.process_id != process.pk:
        raise Http404
    form = PurchasedPrecursorForm(request.POST or None, instance=precursor)

    def save(form):
        services.purchased_precursor_save(
            actor=Actor.from_request(request), process=process, precursor=precursor, **form.service_fields()
        )

    return _row_form(
        request,
        report=report,
        form=form,
        save=save,
        title=_("Purchased precursor of %(process)s") % {"process": process},
    )


@org_required(capability=EDIT, kinds=OPERATOR)
@require_POST
def purchased_fill_defaults(request, pk: int, precursor_pk: int):
    """The one-click action: the country's default values with the year's mark-up."""
    report = selectors.report_get_for_edit(request.access, pk)
    precursor = _purchased(report, precursor_pk)
    if (blocked := _draft_or_redirect(request, report)) is not None:
        return blocked
    try:
        precursor = services.purchased_precursor_save(
            actor=Actor.from_request(request),
            process=precursor.process,
            precursor=precursor,
            fill_defaults=True,
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, _("%(name)s: %(error)s") % {"name": precursor.name, "error": message})
    else:
        messages.success(
            request,
            _("Default values were filled in for %(name)s (%(source)s).")
            % {"name": precursor.name, "source": precursor.default_source},
        )
    return redirect(_detail_url(report))


@org_required(capability=EDIT, kinds=OPERATOR)
@require_POST
def purchased_delete(request, pk: int, precursor_pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    precursor = _purchased(report, precursor_pk)
    return _delete(
        request,
        report=report,
        label=precursor.name,
        call=lambda: services.purchased_precursor_delete(
            actor=Actor.from_request(request), precursor=precursor
        ),
    )


# --- internal precursors -------------------------------------------------------------------


@org_required(capability=EDIT, kinds=OPERATOR)
def internal_create(request, pk: int, process_pk: int, precursor_pk: int | None = None):
    report = selectors.report_get_for_edit(request.access, pk)
    process = selectors.process_get(report, process_pk)
    link = (
        get_object_or_404(InternalPrecursor, process=process, pk=precursor_pk)
        if precursor_pk is not None
        else None
    )
    initial = {"source_process": link.source_process_id, "quantity": link.quantity} if link else None
    form = InternalPrecursorForm(request.POST or None, process=process, initial=initial)

    def save(form):
        services.internal_precursor_save(
            actor=Actor.from_request(request), process=process, precursor=link, **form.cleaned_data
        )

    return _row_form(
        request,
        report=report,
        form=form,
        save=save,
        title=_("Precursor made in another process, used by %(process)s") % {"process": process},
    )


@org_required(capability=EDIT, kinds=OPERATOR)
@require_POST
def internal_delete(request, pk: int, precursor_pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    precursor = get_object_or_404(InternalPrecursor, process__report=report, pk=precursor_pk)
    return _delete(
        request,
        report=report,
        label=_("The internal precursor"),
        call=lambda: services.internal_precursor_delete(
            actor=Actor.from_request(request), precursor=precursor
        ),
    )


# --- carbon price due ----------------------------------------------------------------------


@org_required(capability=EDIT, kinds=OPERATOR)
def carbon_price_edit(request, pk: int, price_pk: int | None = None):
    report = selectors.report_get_for_edit(request.access, pk)
    price = get_object_or_404(CarbonPriceDue, report=report, pk=price_pk) if price_pk else None
    form = CarbonPriceForm(request.POST or None, instance=price)

    def save(form):
        services.carbon_price_save(
            actor=Actor.from_request(request), report=report, carbon_price=price, **form.service_fields()
        )

    return _row_form(request, report=report, form=form, save=save, title=_("Carbon price due"))


@org_required(capability=EDIT, kinds=OPERATOR)
@require_POST
def carbon_price_delete(request, pk: int, price_pk: int):
    report = selectors.report_get_for_edit(request.access, pk)
    price = get_object_or_404(CarbonPriceDue, report=report, pk=price_pk)
    return _delete(
        request,
        report=report,
        label=price.instrument,
        call=lambda: services.carbon_price_delete(actor=Actor.from_request(request), carbon_price=price),
    )


R = "reports/<int:pk>/"
urlpatterns = [
    path("reports/", report_list, name="report_list"),
    path("installations/<int:installation_pk>/reports/new/", report_create, name="report_create"),
    path(R, report_detail, name="report_detail"),
    path(R + "results.csv", report_results_csv, name="report_results_csv"),
    path(R + "submit/", report_submit, name="report_submit"),
    path(R + "verify/", report_verify, name="report_verify"),
    path(R + "correct/", report_correct, name="report_correct"),
    path(R + "verification-report/", report_verification_download, name="report_verification_download"),
    path(R + "processes/new/", process_edit, name="process_create"),
    path(R + "processes/<int:process_pk>/edit/", process_edit, name="process_update"),
    path(R + "processes/<int:process_pk>/delete/", process_delete, name="process_delete"),
    path(R + "processes/<int:process_pk>/goods/new/", good_edit, name="good_create"),
    path(R + "processes/<int:process_pk>/goods/<int:good_pk>/edit/", good_edit, name="good_update"),
    path(R + "goods/<int:good_pk>/delete/", good_delete, name="good_delete"),
    path(R + "processes/<int:process_pk>/precursors/new/", purchased_edit, name="purchased_create"),
    path(
        R + "processes/<int:process_pk>/precursors/<int:precursor_pk>/edit/",
        purchased_edit,
        name="purchased_update",
    ),
    path(
        R + "precursors/<int:precursor_pk>/fill-defaults/",
        purchased_fill_defaults,
        name="purchased_fill_defaults",
    ),
    path(R + "precursors/<int:precursor_pk>/delete/", purchased_delete, name="purchased_delete"),
    path(R + "processes/<int:process_pk>/internal/new/", internal_create, name="internal_create"),
    path(
        R + "processes/<int:process_pk>/internal/<int:precursor_pk>/edit/",
        internal_create,
        name="internal_update",
    ),
    path(R + "internal/<int:precursor_pk>/delete/", internal_delete, name="internal_delete"),
    path(R + "carbon-prices/new/", carbon_price_edit, name="carbon_price_create"),
    path(R + "carbon-prices/<int:price_pk>/edit/", carbon_price_edit, name="carbon_price_update"),
    path(R + "carbon-prices/<int:price_pk>/delete/", carbon_price_delete, name="carbon_price_delete"),
]

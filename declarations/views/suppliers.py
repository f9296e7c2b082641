"""Pages: suppliers, their installation mappings, data requests to them and the evidence log."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.models import OrganisationKind
from cbam_portal.accounts.policy import Capability
from cbam_portal.core.actor import Actor
from cbam_portal.core.csv_export import SafeCsvWriter

from ..forms.suppliers import (
    DataRequestCancelForm,
    DataRequestDefaultsForm,
    DataRequestForm,
    MappingForm,
    OperatorSearchForm,
    RequestFilterForm,
    SupplierForm,
)
from ..selectors import suppliers as selectors
from ..services import requests as request_services
from ..services import suppliers as services

KINDS = (OrganisationKind.DECLARANT,)


def _add_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _decorate(requests, today):
    for r in requests:
        r.is_overdue = request_services.is_overdue(r, today=today)
        link = getattr(r, "supplier_link", None)
        r.supplier = link.supplier if link is not None else None
    return requests


@org_required(kinds=KINDS)
@require_GET
def supplier_list(request):
    return render(
        request,
        "declarations/suppliers/list.html",
        {
            "suppliers": list(selectors.supplier_list_for(request.access)),
            "can_edit": request.access.can(Capability.EDIT),
        },
    )


@org_required(kinds=KINDS)
@require_GET
def operator_search(request):
    form = OperatorSearchForm(request.GET)
    found = selectors.operator_search(form.data.get("q", "")) if form.is_valid() else []
    return render(
        request,
        "declarations/suppliers/_operator_results.html",
        {"found": found, "q": form.data.get("q", "")},
    )


def _supplier_form_page(request, form, supplier=None, status=200):
    operator = None
    if form.is_bound and form.is_valid():
        operator = form.cleaned_data.get("operator_org")
    elif supplier is not None:
        operator = supplier.operator_org
    return render(
        request,
        "declarations/suppliers/form.html",
        {"form": form, "supplier": supplier, "operator": operator, "search": OperatorSearchForm()},
        status=status,
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_http_methods(["GET", "POST"])
def supplier_create(request):
    form = SupplierForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            supplier = services.supplier_create(
                actor=Actor.from_request(request),
                organisation=request.access.organisation,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Supplier %(name)s added.") % {"name": supplier.name})
            return redirect("declarations:supplier_detail", pk=supplier.pk)
    return _supplier_form_page(request, form, status=400 if request.method == "POST" else 200)


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_http_methods(["GET", "POST"])
def supplier_edit(request, pk: int):
    supplier = selectors.supplier_get(request.access, pk)
    initial = {
        "name": supplier.name,
        "country": supplier.country,
        "email": supplier.email,
        "operator_org": supplier.operator_org_id,
    }
    form = SupplierForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.supplier_update(
                actor=Actor.from_request(request), supplier=supplier, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Supplier saved."))
            return redirect("declarations:supplier_detail", pk=supplier.pk)
    return _supplier_form_page(request, form, supplier, status=400 if request.method == "POST" else 200)


def _detail_context(request, supplier, mapping_form=None) -> dict:
    access = request.access
    today = timezone.localdate()
    return {
        "supplier": supplier,
        "mappings": selectors.mapping_list_for(access, supplier),
        "mapping_form": mapping_form
        or MappingForm(installations=selectors.mappable_installations_for(access, supplier)),
        "unlinked_lines": selectors.unlinked_line_count(access, supplier),
        "requests": _decorate(
            list(selectors.data_request_list_for(access, supplier=supplier, today=today)), today
        ),
        "events": list(selectors.evidence_log_for(access, supplier)),
        "can_edit": access.can(Capability.EDIT),
    }


@org_required(kinds=KINDS)
@require_GET
def supplier_detail(request, pk: int):
    supplier = selectors.supplier_get(request.access, pk)
    return render(request, "declarations/suppliers/detail.html", _detail_context(request, supplier))


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def supplier_mapping_create(request, pk: int):
    access = request.access
    supplier = selectors.supplier_get(access, pk)
    form = MappingForm(request.POST, installations=selectors.mappable_installations_for(access, supplier))
    if form.is_valid():
        try:
            services.supplier_mapping_create(
                actor=Actor.from_request(request), supplier=supplier, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Mapping added. Apply it to link the existing lines."))
            return redirect("declarations:supplier_detail", pk=supplier.pk)
    return render(
        request, "declarations/suppliers/detail.html", _detail_context(request, supplier, form), status=400
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def supplier_mapping_delete(request, pk: int):
    mapping = selectors.mapping_get(request.access, pk)
    supplier_id = mapping.supplier_id
    services.supplier_mapping_delete(actor=Actor.from_request(request), mapping=mapping)
    messages.success(request, _("Mapping removed; lines already linked keep their installation."))
    return redirect("declarations:supplier_detail", pk=supplier_id)


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def supplier_mapping_apply(request, pk: int):
    supplier = selectors.supplier_get(request.access, pk)
    changed = services.supplier_mapping_apply(actor=Actor.from_request(request), supplier=supplier)
    messages.success(request, _("%(n)s lines linked to an installation.") % {"n": changed})
    return redirect("declarations:supplier_detail", pk=supplier.pk)


@org_required(kinds=KINDS)
@require_GET
def supplier_evidence_csv(request, pk: int):
    supplier = selectors.supplier_get(request.access, pk)
    writer = SafeCsvWriter(
        [
            _("Date and time (UTC)"),
            _("Request"),
            _("Year"),
            _("CN codes"),
            _("Due date"),
            _("Event"),
            _("By"),
            _("Note"),
        ]
    )
    for event in selectors.evidence_log_for(request.access, supplier):
        r = event.request
        writer.writerow(
            [
                event.at.isoformat(),
                r.pk,
                r.year,
                " ".join(r.cn_codes),
                r.due_date.isoformat(),
                event.kind,
                event.actor_label,
                event.note,
            ]
        )
    response = HttpResponse(writer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="supplier-{supplier.pk}-evidence.csv"'
    return response


@org_required(kinds=KINDS)
@require_GET
def data_request_list(request):
    form = RequestFilterForm(request.GET)
    status = form.cleaned_data["status"] if form.is_valid() else ""
    today = timezone.localdate()
    requests = _decorate(
        list(selectors.data_request_list_for(request.access, status=status, today=today)), today
    )
    interval, cap = request_services.reminder_schedule_for(request.access.organisation)
    return render(
        request,
        "declarations/suppliers/request_list.html",
        {
            "requests": requests,
            "form": form,
            "status": status,
            "can_edit": request.access.can(Capability.EDIT),
            "defaults_form": DataRequestDefaultsForm(
                initial={"reminder_interval_days": interval, "max_reminders": cap}
            ),
        },
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_POST
def data_request_defaults(request):
    form = DataRequestDefaultsForm(request.POST)
    if form.is_valid():
        try:
            request_services.data_request_defaults_update(
                actor=Actor.from_request(request),
                organisation=request.access.organisation,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Reminder schedule saved for new requests."))
            return redirect("declarations:data_request_list")
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return redirect("declarations:data_request_list")


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_http_methods(["GET", "POST"])
def data_request_cancel(request, pk: int):
    data_request = selectors.data_request_get(request.access, pk)
    form = DataRequestCancelForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                request_services.data_request_cancel(
                    actor=Actor.from_request(request), data_request=data_request, **form.cleaned_data
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("The request was cancelled; no more reminders will be sent."))
                link = getattr(data_request, "supplier_link", None)
                if link is not None:
                    return redirect("declarations:supplier_detail", pk=link.supplier_id)
                return redirect("declarations:data_request_list")
    return render(
        request,
        "declarations/suppliers/request_cancel.html",
        {
            "data_request": data_request,
            "form": form,
            "is_open": data_request.status in request_services.OPEN_REQUEST_STATUSES,
        },
        status=status,
    )


@org_required(capability=Capability.EDIT, kinds=KINDS)
@require_http_methods(["GET", "POST"])
def data_request_create(request):
    access = request.access
    suppliers = selectors.supplier_list_for(access)
    initial = {}
    if request.method == "GET" and request.GET.get("supplier"):
        initial["suppliers"] = request.GET.getlist("supplier")
    if request.method == "GET" and request.GET.get("cn_codes"):
        # Pre-filled from the CN codes a supplier reported in transitional quarterly reports, or
        # from a declaration's goods on default values.
        initial["cn_codes"] = request.GET["cn_codes"]
    if request.method == "GET" and request.GET.get("year", "").isdigit():
        initial["year"] = int(request.GET["year"])
    form = DataRequestForm(request.POST or None, suppliers=suppliers, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = request_services.data_request_send(
                actor=Actor.from_request(request), organisation=access.organisation, **form.cleaned_data
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("%(n)s requests sent.") % {"n": len(created)})
            return redirect("declarations:data_request_list")
    return render(
        request,
        "declarations/suppliers/request_form.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


urlpatterns = [
    path("suppliers/", supplier_list, name="supplier_list"),
    path("suppliers/new/", supplier_create, name="supplier_create"),
    path("suppliers/operators/", operator_search, name="supplier_operator_search"),
    path("suppliers/<int:pk>/", supplier_detail, name="supplier_detail"),
    path("suppliers/<int:pk>/edit/", supplier_edit, name="supplier_edit"),
    path("suppliers/<int:pk>/mappings/", supplier_mapping_create, name="supplier_mapping_create"),
    path("suppliers/<int:pk>/mappings/apply/", supplier_mapping_apply, name="supplier_mapping_apply"),
    path("suppliers/mappings/<int:pk>/delete/", supplier_mapping_delete, name="supplier_mapping_delete"),
    path("suppliers/<int:pk>/evidence.csv", supplier_evidence_csv, name="supplier_evidence_csv"),
    path("supplier-requests/", data_request_list, name="data_request_list"),
    path("supplier-requests/new/", data_request_create, name="data_request_create"),
    path("supplier-requests/defaults/", data_request_defaults, name="data_request_defaults"),
    path("supplier-requests/<int:pk>/cancel/", data_request_cancel, name="data_request_cancel"),
]

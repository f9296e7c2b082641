from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cbam_portal.accounts.decorators import org_required
from cbam_portal.accounts.policy import Capability, Role

from .actor import Actor
from .forms import AuditFilterForm, JobFilterForm
from .jobs import job_kinds
from .selectors import AuditFilters, audit_events_for, audit_verbs_for, job_get_for, job_list_for
from .services import audit_log_export_enqueue

JOBS_PER_PAGE = 25
AUDIT_EVENTS_PER_PAGE = 50


def home(request):
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    return render(request, "core/home.html")


@org_required()
def dashboard(request):
    access = request.access
    can_audit = access.can(Capability.VIEW_AUDIT)
    context = {
        "role_label": Role(access.role).label if access.role in Role.values else access.role,
        "recent_jobs": list(job_list_for(access)[:5]),
        "recent_events": list(audit_events_for(access)[:5]) if can_audit else None,
        "can_audit": can_audit,
    }
    return render(request, "core/dashboard.html", context)


def _visible_kinds(access):
    return [k for k in job_kinds() if access.can(k.capability)]


@org_required()
@require_GET
def job_list(request):
    access = request.access
    form = JobFilterForm(request.GET or None, kinds=_visible_kinds(access))
    status = kind = ""
    if form.is_bound and form.is_valid():
        status, kind = form.cleaned_data["status"], form.cleaned_data["kind"]
    page = Paginator(job_list_for(access, status=status, kind=kind), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "core/job_list.html",
        {
            "form": form,
            "page": page,
            "jobs": page.object_list,
            "filtered": bool(status or kind),
            "query": _query_without_page(request),
        },
    )


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@org_required()
@require_GET
def job_detail(request, pk: int):
    return render(request, "core/job_detail.html", {"job": job_get_for(request.access, pk)})


@org_required()
@require_GET
def job_progress(request, pk: int):
    """The progress component alone; htmx polls it until the job finishes."""
    return render(request, "core/_job_progress.html", {"job": job_get_for(request.access, pk)})


@org_required()
@require_GET
def job_download(request, pk: int):
    job = job_get_for(request.access, pk)
    if not job.result_file:
        raise Http404("This job has no result file.")
    try:
        handle = job.result_file.open("rb")
    except FileNotFoundError:
        raise Http404("The result file is no longer available.") from None
    return FileResponse(handle, as_attachment=True, filename=job.result_file_name or "result")


def _audit_form(request, data):
    return AuditFilterForm(data, verbs=audit_verbs_for(request.access))


@org_required(capability=Capability.VIEW_AUDIT)
@require_GET
def audit_list(request):
    form = _audit_form(request, request.GET or None)
    filters = form.filters() if form.is_bound and form.is_valid() else AuditFilters()
    page = Paginator(audit_events_for(request.access, filters), AUDIT_EVENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "core/audit_list.html",
        {
            "form": form,
            "page": page,
            "events": page.object_list,
            "filters": filters,
            "query": _query_without_page(request),
        },
    )


@org_required(capability=Capability.VIEW_AUDIT)
@require_POST
def audit_export(request):
    """Start the CSV export of the audit log with the filters shown."""
    form = _audit_form(request, request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{form.fields[f].label if f in form.fields else ''}: {' '.join(e)}" for f, e in form.errors.items())
        if request.htmx:
            return render(request, "core/_export_error.html", {"errors": errors})
        messages.error(request, _("The export was not started: %(errors)s") % {"errors": errors})
        return redirect("core:audit_list")
    job = audit_log_export_enqueue(
        actor=Actor.from_request(request), organisation=request.access.organisation, filters=form.filters()
    )
    job.refresh_from_db()  # with eager tasks it has already run
    if request.htmx:
        return render(request, "core/_job_progress.html", {"job": job})
    messages.success(request, _("The export has started; the file will be ready below."))
    return redirect("core:job_detail", pk=job.pk)

from django.shortcuts import redirect, render

from cbam_portal.accounts.decorators import org_required


def home(request):
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    return render(request, "core/home.html")


@org_required()
def dashboard(request):
    return render(request, "core/dashboard.html")


@org_required()
def job_list(request):
    return render(request, "core/dashboard.html")

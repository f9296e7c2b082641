from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_POST


@login_required
def organisation_create(request):
    return HttpResponse("todo")


@login_required
@require_POST
def organisation_switch(request):
    return HttpResponse("todo")


@login_required
def organisation_detail(request):
    return HttpResponse("todo")

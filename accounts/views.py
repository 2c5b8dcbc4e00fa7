from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.decorators import employee_permission_required, employee_required
from accounts.forms import ProfileForm


@employee_required
def home(request: HttpRequest) -> HttpResponse:
    if request.user.has_perm("accounts.access_contacts"):
        return redirect("contacts:list")
    return render(request, "accounts/home.html")


@employee_permission_required("accounts.access_settings")
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Saved your profile.")
        return redirect("profile")
    return render(request, "accounts/profile.html", {"form": form})


def not_offered(request: HttpRequest) -> HttpResponse:
    """Pages of allauth that RevStackr does not offer.

    An employee's login address is managed by their Admin on My Staff, and
    mailboxes are connected on My Profile, so allauth's own pages for
    adding addresses and third-party connections are switched off.
    """
    raise Http404("This page is not offered.")

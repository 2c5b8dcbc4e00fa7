from django.contrib import messages
from django.http import HttpRequest, HttpResponse
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

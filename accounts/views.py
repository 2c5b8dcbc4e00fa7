from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.decorators import employee_required


@employee_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/home.html")

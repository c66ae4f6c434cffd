from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from skranke.accounts.actions import set_presence
from skranke.accounts.forms import LoginForm, PresenceForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_POST
def presence(request: HttpRequest) -> HttpResponse:
    form = PresenceForm(request.POST)
    if form.is_valid():
        set_presence(request.user, form.cleaned_data["presence"])  # type: ignore[arg-type]
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "base.html#presence_form", status=200 if form.is_valid() else 400)
    back = request.POST.get("next") or request.headers.get("Referer") or "/"
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = "/"
    return redirect(back)

"""The JSON API at ``/api/v1``: one NinjaAPI, its authentication and its error shapes.

Handlers live next to their domain (``skranke/cases/api.py``, ``skranke/customers/api.py``) and
stay thin: parse → ``access_*`` helper → action → schema. Everything that turns an exception into
an HTTP response is here, so every endpoint fails the same way:

* 400 / 413 / 422 — ``{"detail": [{"loc": [...], "msg": "...", "type": "..."}]}``
* 401 / 403 / 404 — ``{"detail": "..."}``
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.operation import Operation
from ninja.security import HttpBearer
from ninja.security.session import SessionAuth
from ninja.utils import check_csrf

from skranke.accounts.models import ApiToken, User
from skranke.cases.actions import AttachmentTooLarge
from skranke.lib.api import InvalidInput, error_item, validation_errors
from skranke.lib.cursors import InvalidCursor

AUTH_HELP = (
    "Authentication required: send 'Authorization: Bearer <token>' "
    "(create a token with `skranke token create EMAIL`) or use a logged-in browser session."
)


# What handlers call their schema parameters; never a field name in the API.
SCHEMA_PARAMETER_NAMES = frozenset({"payload", "filters", "page", "options"})


class BearerToken(HttpBearer):
    """``Authorization: Bearer sk_…`` — one token per agent, for scripts and integrations."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        user = ApiToken.objects.authenticate(token.strip()) if token.strip() else None
        if user is None:
            # A wrong token is an error, not a reason to fall back to the session cookie.
            raise AuthenticationError(message="Invalid or revoked API token.")
        request.user = user
        return user


class BrowserSession(SessionAuth):
    """The logged-in agent's session, for same-origin JavaScript; unsafe methods need CSRF."""

    def _get_key(self, request: HttpRequest) -> str | None:
        if self.csrf and not getattr(request, "_ninja_csrf_exempt", False):
            if check_csrf(request):
                raise HttpError(
                    403,
                    "CSRF check failed: with session authentication, send the csrftoken cookie's "
                    "value in the X-CSRFToken header.",
                )
        return request.COOKIES.get(self.param_name)


def api_body_limit() -> int:
    """Largest JSON body the API accepts: one maximum-size attachment in base64 plus room for
    the rest of the message. Django's own limit (DATA_UPLOAD_MAX_MEMORY_SIZE) is sized for forms
    and would refuse attachments long before SKRANKE_MAX_ATTACHMENT_BYTES."""
    base64_size = -(-settings.SKRANKE_MAX_ATTACHMENT_BYTES // 3) * 4
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, base64_size + 1024 * 1024)


class SkrankeAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        # Every operation has a url_name (case_list, customer_merge…); client generators
        # turn operation ids into method names, so keep them short and stable.
        return getattr(operation, "url_name", None) or super().get_openapi_operation_id(operation)

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern):
                pattern.callback = _api_view(pattern.callback)
        return urls


def _api_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
        if length > api_body_limit():
            return api.create_response(
                request,
                {"detail": [error_item(["body"], _too_big_message(length), "request_too_large")]},
                status=413,
            )
        if length > (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0) and not hasattr(request, "_body"):
            # Read the body ourselves under the API's limit; Django caches it in ``_body`` and
            # would otherwise apply the (smaller) form limit when ninja reads ``request.body``.
            request._body = request.read()  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    # The API answers 401 in JSON rather than redirecting to the login page, and does its own
    # CSRF check for session requests (bearer-token requests need none).
    wrapper.login_required = False  # type: ignore[attr-defined]
    wrapper.csrf_exempt = getattr(view, "csrf_exempt", False)  # type: ignore[attr-defined]
    return wrapper


def _too_big_message(length: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return (
        f"The request body is {filesizeformat(length)}; the API accepts at most "
        f"{filesizeformat(api_body_limit())} (attachments up to "
        f"{filesizeformat(settings.SKRANKE_MAX_ATTACHMENT_BYTES)} each)."
    )


api = SkrankeAPI(
    title="Skranke API",
    version="1",
    urls_namespace="api",
    description=(
        "The desk's JSON API. Authenticate with `Authorization: Bearer <token>`; "
        "see docs/api.md for pagination and error shapes."
    ),
    auth=[BearerToken(), BrowserSession()],
    # Swagger UI from ninja's bundled static files (ninja is in INSTALLED_APPS), and no call to
    # the online spec validator: the docs page loads nothing from outside Skranke.
    docs=Swagger(settings={"validatorUrl": None}),
)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = exc.message if exc.message != "Unauthorized" else AUTH_HELP
    response = api.create_response(request, {"detail": message}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="skranke"'
    return response


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if exc.status_code == 400 and cause is not None:
        # ninja wraps body-parsing failures; say what was wrong with the JSON.
        if isinstance(cause, json.JSONDecodeError):
            msg = f"Malformed JSON: {cause.msg} (line {cause.lineno}, column {cause.colno})."
        elif isinstance(cause, UnicodeDecodeError):
            msg = "Malformed JSON: the body is not UTF-8."
        else:
            msg = f"Malformed JSON: {cause}."
        return api.create_response(
            request, {"detail": [error_item(["body"], msg, "json_invalid")]}, status=400
        )
    return api.create_response(request, {"detail": exc.message}, status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # Forbidden objects are reported exactly like missing ones, so ids don't leak.
    message = str(exc) or "Not found."
    if not message.endswith("."):
        message += "."
    return api.create_response(request, {"detail": message}, status=404)


@api.exception_handler(NinjaValidationError)
def _invalid_input(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    items = []
    for error in exc.errors:
        item: dict[str, Any] = {k: error[k] for k in ("loc", "msg", "type") if k in error}
        loc = list(item.get("loc", []))
        if len(loc) >= 2 and loc[1] in SCHEMA_PARAMETER_NAMES:
            # ninja sometimes reports the handler's parameter name (``payload``, ``filters``)
            # after the source; clients only know the body and the query string.
            del loc[1]
        item["loc"] = loc
        if "ctx" in error:
            item["ctx"] = error["ctx"]
        items.append(item)
    return api.create_response(request, {"detail": items}, status=422)


@api.exception_handler(AttachmentTooLarge)
def _attachment_too_large(request: HttpRequest, exc: AttachmentTooLarge) -> HttpResponse:
    items = validation_errors(exc)
    for item in items:
        item["loc"] = ["body", "attachments"]
    return api.create_response(request, {"detail": items}, status=413)


@api.exception_handler(DjangoValidationError)
def _action_refused(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": validation_errors(exc)}, status=422)


@api.exception_handler(InvalidCursor)
def _invalid_cursor(request: HttpRequest, exc: InvalidCursor) -> HttpResponse:
    detail = [
        error_item(
            ["query", "cursor"],
            "Invalid cursor: pass back a `next` value unchanged.",
            "invalid_cursor",
        )
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(InvalidInput)
def _invalid_reference(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    return api.create_response(
        request, {"detail": [error_item(exc.loc, exc.msg, exc.type)]}, status=422
    )


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    detail = [error_item(["body"], _too_big_message(length), "request_too_large")]
    return api.create_response(request, {"detail": detail}, status=413)


def _register_routers() -> None:
    from skranke.cases.api import router as cases_router
    from skranke.customers.api import organisations_router
    from skranke.customers.api import router as customers_router
    from skranke.workforce.api import router as workforce_router

    api.add_router("/cases", cases_router)
    api.add_router("/customers", customers_router)
    api.add_router("/organisations", organisations_router)
    api.add_router("/workforce", workforce_router)


_register_routers()

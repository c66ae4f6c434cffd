from django.http import HttpRequest, HttpResponse

from skranke.cases.access import access_case


def queue(request: HttpRequest) -> HttpResponse:
    return HttpResponse("queue")


def detail(request: HttpRequest, number: int) -> HttpResponse:
    case = access_case(request.user, number)  # type: ignore[arg-type]
    return HttpResponse(str(case))

from django.http import HttpRequest, HttpResponse


def customer_list(request: HttpRequest) -> HttpResponse:
    return HttpResponse("customers")

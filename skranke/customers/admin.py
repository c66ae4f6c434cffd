from __future__ import annotations

from django.contrib import admin

from skranke.customers.models import Customer, CustomerEmail, CustomerPhone, Organisation


class CustomerEmailInline(admin.TabularInline):
    model = CustomerEmail
    extra = 0


class CustomerPhoneInline(admin.TabularInline):
    model = CustomerPhone
    extra = 0


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "organisation", "preferred_language", "city", "created_at")
    list_select_related = ("organisation",)
    list_filter = ("preferred_language",)
    # Prefix searches on indexed columns; a plain icontains over 200k customers is a table scan.
    search_fields = ("name__istartswith", "emails__address__istartswith", "phones__number")
    raw_id_fields = ("organisation", "merged_into")
    inlines = [CustomerEmailInline, CustomerPhoneInline]
    show_full_result_count = False


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "org_number", "created_at")
    search_fields = ("name__istartswith", "org_number")
    show_full_result_count = False

"""The Python-rendered selects write exactly what Django's widget templates write."""

from __future__ import annotations

import pytest
from django import forms
from django.utils.safestring import mark_safe

from skranke.lib.widgets import FastSelect, option_tags

CHOICES = [
    ("", "—"),
    ("a", "Alpha & <Beta>"),
    (3, mark_safe("<b>safe</b>")),
    ("Group", [("g1", "One"), ("g2", 'Two "quoted"')]),
]


@pytest.mark.parametrize("value", ["", "a", 3, "g2", None, ["a"]])
@pytest.mark.parametrize("attrs", [None, {"id": "x", "required": True, "disabled": False}])
def test_same_markup_as_django(value, attrs):
    django_select = forms.Select(choices=CHOICES, attrs={"class": "c<"})
    fast = FastSelect(choices=CHOICES, attrs={"class": "c<"})
    assert fast.render("na<me", value, attrs) == django_select.render("na<me", value, attrs)


def test_same_markup_in_a_form(db):
    from skranke.accounts.models import User

    User.objects.create_user(email="a@example.com", password="x", name="Å <agent>")

    class Plain(forms.Form):
        assignee = forms.ModelChoiceField(queryset=User.objects.all(), required=False)

    class Fast(forms.Form):
        assignee = forms.ModelChoiceField(
            queryset=User.objects.all(), required=False, widget=FastSelect
        )

    pk = User.objects.get().pk
    for data in ({}, {"assignee": str(pk)}):
        assert str(Fast(data or None)["assignee"]) == str(Plain(data or None)["assignee"])


def test_option_tags_marks_the_selected_value():
    html = option_tags([(1, "Ann"), (2, "Bo & Co")], selected="2")
    assert html == ('<option value="1">Ann</option><option value="2" selected>Bo &amp; Co</option>')

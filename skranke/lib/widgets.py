"""Select boxes rendered in Python, for option lists that grow with the centre (agents).

Django renders every ``<option>`` through two template includes (``select_option.html`` and
``attrs.html``): about 25 µs each. With 400 agents in the queue's filter, the bulk bar and the
case page's properties, that was most of a page's server time (bench/bench_pages.py). These
helpers write the same markup as Django's templates, with the same escaping;
``skranke/lib/tests/test_widgets.py`` renders both and compares.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]


def _text(value: Any) -> str:
    """``{{ value }}`` in a template: localised and escaped unless already safe."""
    if type(value) is str:
        # The common case (a name), without Django's lazy-string checks: same output.
        return html.escape(value)
    return str(conditional_escape(localize(template_localtime(value))))


def _attrs(attrs: Mapping[str, Any]) -> str:
    """``django/forms/widgets/attrs.html``: ``False`` drops an attribute, ``True`` writes its name."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class FastSelect(forms.Select):
    """``forms.Select`` with Django's markup, written without a template per option.

    The loop is Django's ``ChoiceWidget.optgroups`` without building a context dictionary per
    option (which alone took ~5 ms for 400 agents).
    """

    def render(
        self,
        name: str,
        value: Any,
        attrs: dict[str, Any] | None = None,
        renderer: Any = None,
    ) -> SafeString:
        select_attrs = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            select_attrs["multiple"] = True
        values = self.format_value(value)
        parts = [f'<select name="{_text(name)}"{_attrs(select_attrs)}>']
        has_selected = False
        for option_value, option_label in self.choices:
            if option_value is None:
                option_value = ""
            if isinstance(option_label, list | tuple):
                group_name, choices = option_value, option_label
            else:
                group_name, choices = None, [(option_value, option_label)]
            if group_name:
                parts.append(f'\n  <optgroup label="{_text(group_name)}">')
            for sub_value, sub_label in choices:
                selected = (not has_selected or self.allow_multiple_selected) and str(
                    sub_value
                ) in values
                has_selected |= selected
                parts.append(
                    f'\n  <option value="{conditional_escape(sub_value)}"'
                    f"{' selected' if selected else ''}>{_text(sub_label)}</option>\n"
                )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        # Every name, value and label above went through conditional_escape.
        return mark_safe("".join(parts))


def option_tags(choices: Iterable[tuple[Any, Any]], selected: str = "") -> SafeString:
    """``<option>`` elements for a hand-written ``<select>``: ``selected`` marks the one value."""
    return mark_safe(
        "".join(
            f'<option value="{_text(str(value))}"'
            f"{' selected' if str(value) == selected else ''}>{_text(label)}</option>"
            for value, label in choices
        )
    )

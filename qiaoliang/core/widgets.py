"""Form widgets tuned for long option lists."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language


class FixedChoices(BaseChoiceIterator):
    """Choices built once per process (a long reference list such as the regions) that a form assigns as they are.

    Django normalises a plain list of choices again for every form instance (about 4 ms for the 370 regions) and a
    FastSelect would escape every option again; a FixedChoices is taken as it is (Django leaves choice iterators
    alone) and a FastSelect renders its options once per language, adding only ` selected` per request.
    """

    def __init__(self, choices: list[tuple[Any, Any]]) -> None:
        self.choices = choices
        self.rendered: dict[str, list[tuple[str | None, str]]] = {}

    def __iter__(self) -> Any:
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)


class FastSelect(forms.Select):
    """Render a single-choice select in Python instead of one template include per option.

    Django's template-based widgets cost about 0.1 ms per option; the directory's region filter has
    370 options, which made option rendering most of the page's time.
    """

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value[0] if isinstance(value, list | tuple) and value else value)
        choices = self.choices
        if isinstance(choices, FixedChoices):
            language = get_language() or ""
            options = choices.rendered.get(language)
            if options is None:
                options = choices.rendered[language] = _options(choices.choices)
        else:
            options = _options(self.choices)
        html = "".join(
            f'<option value="{text}" selected>' if option_value == selected else f'<option value="{text}">'
            if option_value is not None else text
            for option_value, text in options
        )  # fmt: skip
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe(html))  # noqa: S308


def _options(choices: Any) -> list[tuple[str | None, str]]:
    """Return (value, escaped value) for each option's opening tag, with its label and markup after it as
    (None, html): the selected option is marked when the select is rendered."""
    parts: list[tuple[str | None, str]] = []

    def add(option_value: Any, label: Any) -> None:
        option_value = "" if option_value is None else str(option_value)
        parts.append((option_value, str(conditional_escape(option_value))))
        parts.append((None, f"{conditional_escape(label)}</option>"))

    for option_value, label in choices:
        if isinstance(label, list | tuple):  # an <optgroup>
            parts.append((None, f'<optgroup label="{conditional_escape(option_value)}">'))
            for sub_value, sub_label in label:
                add(sub_value, sub_label)
            parts.append((None, "</optgroup>"))
        else:
            add(option_value, label)
    return parts

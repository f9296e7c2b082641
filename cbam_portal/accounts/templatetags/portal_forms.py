"""Bootstrap 5 rendering of Django form fields: `{% bs_field form.name %}`, `{% bs_fields form %}`."""

from django import forms, template

register = template.Library()


def _widget_class(field) -> str:
    widget = field.field.widget
    if isinstance(widget, (forms.CheckboxInput, forms.RadioSelect, forms.CheckboxSelectMultiple)):
        css = "form-check-input"
    elif isinstance(widget, (forms.Select, forms.SelectMultiple)):
        css = "form-select"
    else:
        css = "form-control"
    if field.errors:
        css += " is-invalid"
    return css


@register.simple_tag
def bs_widget(field, placeholder=None):
    """The field's widget with Bootstrap classes (and aria-describedby for its help text)."""
    attrs = {"class": (field.field.widget.attrs.get("class", "") + " " + _widget_class(field)).strip()}
    if field.help_text:
        attrs["aria-describedby"] = f"{field.auto_id}_help"
    if placeholder:
        attrs["placeholder"] = placeholder
    return field.as_widget(attrs=attrs)


@register.inclusion_tag("accounts/includes/field.html")
def bs_field(field, label=True):
    is_check = isinstance(field.field.widget, forms.CheckboxInput)
    return {"field": field, "is_check": is_check, "show_label": label and not field.is_hidden}


@register.inclusion_tag("accounts/includes/fields.html")
def bs_fields(form):
    return {"form": form}

"""The Autoresponse Rules form: a name, up to CONDITION_ROWS conditions (all must match), and the
answer's template, whose placeholders are checked by rules.template_problems."""

from __future__ import annotations

from typing import Any

from django import forms

from inboxbridge.autoresponse import rules
from inboxbridge.autoresponse.models import Rule

CONDITION_ROWS = 5
PLACEHOLDER_HELP = "Placeholders: " + ", ".join("{" + name + "}" for name in rules.PLACEHOLDERS) + "."


class RuleForm(forms.ModelForm):
    class Meta:
        model = Rule
        fields = ["name", "enabled", "subject_template", "body_template"]
        labels = {"name": "Rule name", "enabled": "Enabled", "subject_template": "Answer subject",
                  "body_template": "Answer text"}
        help_texts = {
            "enabled": "Only mail that arrives in the INBOX after the rule is enabled is answered.",
            "subject_template": "Empty: “Re: ” and the original subject. " + PLACEHOLDER_HELP,
            "body_template": PLACEHOLDER_HELP,
        }
        widgets = {"body_template": forms.Textarea(attrs={"rows": 8})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        existing = self.instance.condition_list if self.instance.pk else []
        for index in range(CONDITION_ROWS):
            known = existing[index] if index < len(existing) else None
            self.fields[f"condition_{index}_field"] = forms.ChoiceField(
                choices=[("", "—"), *Rule.Field.choices], required=False, label="Field",
                initial=known.field if known else "")
            self.fields[f"condition_{index}_operator"] = forms.ChoiceField(
                choices=Rule.Operator.choices, required=False, label="Operator",
                initial=known.operator if known else Rule.Operator.CONTAINS)
            self.fields[f"condition_{index}_value"] = forms.CharField(
                required=False, max_length=500, label="Value", initial=known.value if known else "")

    @property
    def condition_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(self[f"condition_{i}_field"], self[f"condition_{i}_operator"], self[f"condition_{i}_value"])
                for i in range(CONDITION_ROWS)]

    @property
    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.Meta.fields]

    def _template(self, name: str) -> str:
        value = str(self.cleaned_data.get(name) or "")
        problems = rules.template_problems(value)
        if problems:
            raise forms.ValidationError(problems)
        return value

    def clean_subject_template(self) -> str:
        return rules.one_line(self._template("subject_template"))

    def clean_body_template(self) -> str:
        return self._template("body_template")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        conditions = []
        for index in range(CONDITION_ROWS):
            field = cleaned.get(f"condition_{index}_field") or ""
            operator = cleaned.get(f"condition_{index}_operator") or Rule.Operator.CONTAINS
            value = (cleaned.get(f"condition_{index}_value") or "").strip()
            if not field and not value:
                continue
            if not field:
                self.add_error(f"condition_{index}_field", "Choose the field this condition looks at.")
            elif not value:
                self.add_error(f"condition_{index}_value", "Give the text this condition looks for.")
            else:
                conditions.append({"field": field, "operator": operator, "value": value})
        self.instance.conditions = conditions
        return cleaned

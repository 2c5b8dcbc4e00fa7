from django import forms

from accounts.models import Account
from conversations.never_log import NeverLogError, normalize_never_log_value


class ImportWindowForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["import_window_days"]
        labels = {"import_window_days": "Import mail from the last (days)"}

    def clean_import_window_days(self) -> int:
        days = int(self.cleaned_data["import_window_days"])
        if not 1 <= days <= 3650:
            raise forms.ValidationError("Choose between 1 and 3650 days.")
        return days


class NeverLogForm(forms.Form):
    value = forms.CharField(
        label="Address or domain",
        max_length=254,
        help_text="For example ann@example.com, or example.com for a whole domain.",
    )

    def clean_value(self) -> str:
        try:
            return normalize_never_log_value(self.cleaned_data["value"])
        except NeverLogError as error:
            raise forms.ValidationError(str(error)) from error

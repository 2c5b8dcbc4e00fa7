from django import forms

from accounts.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "time_zone", "signature"]
        widgets = {"signature": forms.Textarea(attrs={"rows": 4})}

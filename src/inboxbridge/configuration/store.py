"""The layered settings store: a value saved in the back-office, else the deployment default.

The deployment default is a Django setting filled from the environment (see settings.py). This
module knows no integration: each app declares its own `Option`s next to the code that reads them
(Microsoft Settings in `microsoft/config.py`, Sign in with Microsoft in `signin/options.py`), so the
store sits below every app that keeps settings in it. Only the options of the pages this app serves
itself (Other Mail Servers) are declared here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from inboxbridge.configuration.models import StoredSetting


@dataclass(frozen=True)
class Option:
    key: str  # the StoredSetting row's key: never rename one, or saved values are lost
    label: str
    default_setting: str = ""  # name of the Django setting holding the deployment default
    secret: bool = False

    def default(self) -> str:
        return str(getattr(settings, self.default_setting, "") or "") if self.default_setting else ""


def stored(option: Option) -> StoredSetting | None:
    return StoredSetting.objects.filter(key=option.key).first()


def stored_value(option: Option) -> str | None:
    """The value saved in the back-office; None when the option uses the deployment default."""
    row = stored(option)
    if row is None:
        return None
    return row.secret_value if option.secret else row.value


def get(option: Option) -> str:
    value = stored_value(option)
    return option.default() if value is None else value


def get_flag(option: Option) -> bool:
    """A yes/no option: stored as "1"/"0"; its deployment default is a boolean setting."""
    return get(option).strip().lower() in {"1", "true"}


def uses_default(option: Option) -> bool:
    return not StoredSetting.objects.filter(key=option.key).exists()


def get_many(options: tuple[Option, ...]) -> dict[str, str]:
    rows = {row.key: row for row in StoredSetting.objects.filter(key__in=[o.key for o in options])}
    values = {}
    for option in options:
        row = rows.get(option.key)
        if row is None:
            values[option.key] = option.default()
        else:
            values[option.key] = row.secret_value if option.secret else row.value
    return values

"""Configuration from the environment: the defaults, empty values, and a bad whole number."""

from __future__ import annotations

import pytest

from ivr import config


def test_the_defaults_run_the_embedded_set_up():
    settings = config.from_environment({}, "/srv/instance")
    assert settings["DATABASE_URL"] == "sqlite:////srv/instance/ivr.sqlite3"
    assert settings["IVR_TWILIO_AUTH_TOKEN"] == config.DEV_AUTH_TOKEN
    assert settings["IVR_IDENTITY_KEY"] == config.DEV_IDENTITY_KEY
    assert settings["IVR_REGIONS_FILE"] == str(config.PACKAGE_DIR / "regions.yaml")
    assert (settings["IVR_GATHER_TIMEOUT"], settings["IVR_MAX_TRIES"]) == (6, 3)
    assert (settings["IVR_SMTP_PORT"], settings["IVR_SMTP_STARTTLS"]) == (587, True)
    assert settings["IVR_GATEWAY"] == settings["IVR_PAY_CONNECTOR"] == "sandbox"
    assert settings["IVR_TWILIO_ACCOUNT_SID"] == settings["IVR_SMS_FROM"] == ""


def test_variables_are_read_by_their_exact_names_and_empty_means_the_default():
    settings = config.from_environment(
        {
            "DATABASE_URL": "",
            "IVR_VOICE_EN": "",
            "IVR_MAX_TRIES": "",
            "IVR_GATHER_TIMEOUT": " 9 ",
            "ivr_max_silences": "1",
            "IVR_SMTP_STARTTLS": "no",
            "IVR_GATEWAY": "stripe",
            "UNRELATED": "x",
        },
        "inst",
    )
    assert settings["DATABASE_URL"] == "sqlite:///inst/ivr.sqlite3"
    assert settings["IVR_VOICE_EN"] == "Google.en-US-Neural2-F"
    assert (settings["IVR_MAX_TRIES"], settings["IVR_GATHER_TIMEOUT"]) == (3, 9)
    assert settings["IVR_MAX_SILENCES"] == 5
    assert settings["IVR_SMTP_STARTTLS"] is False
    assert settings["IVR_GATEWAY"] == "stripe"
    assert "UNRELATED" not in settings
    # An empty STARTTLS is "no", as it always was; only a missing one is the default.
    assert config.from_environment({"IVR_SMTP_STARTTLS": ""}, "i")["IVR_SMTP_STARTTLS"] is False


@pytest.mark.parametrize("raw", ["ten", "1.5", " "])
def test_a_bad_whole_number_names_the_variable_and_its_value(raw):
    with pytest.raises(RuntimeError) as raised:
        config.from_environment({"IVR_CALL_TTL_MINUTES": raw}, "i")
    assert str(raised.value) == f"IVR_CALL_TTL_MINUTES must be a whole number, not {raw!r}"


def test_the_process_environment_is_read_when_no_mapping_is_given(monkeypatch):
    monkeypatch.setenv("IVR_PAY_TIMEOUT", "12")
    assert config.IvrSettings().IVR_PAY_TIMEOUT == 12
    assert config.from_environment(config.current_environment(), "i")["IVR_PAY_TIMEOUT"] == 12


def test_reminders_go_five_three_and_three_days_ahead_and_keep_9_pm_to_8_am_by_default():
    rules = config.reminder_rules(config.from_environment({}, "/srv/instance"))
    assert (rules.due_soon_days, rules.autopay_days, rules.plan_days) == (5, 3, 3)
    assert (rules.quiet.start.hour, rules.quiet.end.hour) == (21, 8)


def test_the_reminder_settings_are_read_and_a_bad_one_stops_the_start_up_by_name():
    settings = config.from_environment(
        {"IVR_REMINDER_DUE_SOON_DAYS": "7", "IVR_QUIET_HOURS": "20:30 - 09:00"}, "/srv"
    )
    rules = config.reminder_rules(settings)
    assert rules.due_soon_days == 7
    assert (rules.quiet.start.isoformat(), rules.quiet.end.isoformat()) == ("20:30:00", "09:00:00")
    for name, value in (
        ("IVR_QUIET_HOURS", "9pm to 8am"),
        ("IVR_QUIET_HOURS", "21:00-21:00"),
        ("IVR_REMINDER_PLAN_DAYS", "0"),
    ):
        with pytest.raises(RuntimeError, match=name):
            config.reminder_rules(config.from_environment({name: value}, "/srv"))

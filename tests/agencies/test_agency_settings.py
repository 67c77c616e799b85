"""Queue targets and the repeat-contact rule are per-agency settings an admin edits."""
from clinician_app.agencies.models import Agency
from clinician_app.extensions import db


def _edit(client, csrf, agency, **overrides):
    page = client.get(f"/admin/agencies/{agency.id}/edit")
    assert page.status_code == 200
    data = {"csrf_token": csrf(page), "name": agency.name, "code": agency.code, "timezone": agency.timezone,
            "target_now_minutes": "20", "target_same_day_minutes": "300", "target_follow_up_minutes": "2880",
            "repeat_contact_calls": "4", "repeat_contact_days": "60"}
    data.update(overrides)
    return client.post(f"/admin/agencies/{agency.id}/edit", data=data)


def test_admin_changes_queue_targets_and_repeat_rule(agencies, make_user, login_as, client, csrf):
    agency = agencies["A"]
    login_as(make_user(agency, "admin"))
    page = client.get(f"/admin/agencies/{agency.id}/edit").get_data(as_text=True)
    assert 'value="15"' in page and 'value="90"' in page  # current values shown
    response = _edit(client, csrf, agency)
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Agency, agency.id)
    assert (saved.target_now_minutes, saved.target_same_day_minutes, saved.target_follow_up_minutes) == (20, 300, 2880)
    assert (saved.repeat_contact_calls, saved.repeat_contact_days) == (4, 60)
    assert saved.target_minutes("now") == 20


def test_out_of_range_settings_are_refused_and_typed_values_kept(agencies, make_user, login_as, client, csrf):
    agency = agencies["A"]
    login_as(make_user(agency, "admin"))
    response = _edit(client, csrf, agency, repeat_contact_calls="1", target_now_minutes="abc", name="Renamed PD")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Choose between 2 and 50 calls." in text
    assert 'value="Renamed PD"' in text and 'value="60"' in text
    db.session.expire_all()
    assert db.session.get(Agency, agency.id).repeat_contact_calls == 3


def test_service_validates_settings(agencies, make_user):
    import pytest

    from clinician_app.agencies import services
    from clinician_app.core.errors import ValidationError

    agency = agencies["A"]
    admin = make_user(agency, "admin")
    base = {"name": agency.name, "code": agency.code, "timezone": agency.timezone}
    with pytest.raises(ValidationError) as caught:
        services.update_agency(admin, agency, {**base, "repeat_contact_days": "400", "target_now_minutes": "x"})
    assert set(caught.value.fields) == {"repeat_contact_days", "target_now_minutes"}
    services.update_agency(admin, agency, {**base, "repeat_contact_days": 30})
    assert agency.repeat_contact_days == 30 and agency.repeat_contact_calls == 3

"""Places pages (on the engagement blueprint): the registry, adding and editing a
place, a place's page, and linking a call to a place from the call's page."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.calls import codes as call_codes
from clinician_app.core.errors import ValidationError
from clinician_app.core.policy import Permission, requires
from clinician_app.extensions import db

from . import codes
from .forms import PlaceForm
from .places import create_place, get_place, link_call_to_place, list_places, place_page, update_place
from .views import bp, context, form_page, save


@bp.get("/places")
@requires(Permission.ENGAGEMENT_READ)
def places():
    kind = request.args.get("kind", "")
    return render_template("engagement/places.html", **context(
        places=list_places(current_user, kind), kind=kind if kind in codes.PLACE_KINDS else ""))


PLACE_HINTS = {"name": "As people in town call it, like Chelmsford High School.",
               "address": "Street number and name, as dispatch would type it: calls at this address are matched to the place."}


@bp.route("/places/new", methods=["GET", "POST"])
@requires(Permission.ENGAGEMENT_MANAGE)
def new_place():
    form = PlaceForm()
    place, error = save(form, create_place)
    if place is not None:
        flash(f"{place.name} added.", "success")
        return redirect(url_for("engagement.place", place_id=place.id), 303)
    return form_page(form, title="Add a place", action=url_for("engagement.new_place"), submit="Add the place",
                     back=url_for("engagement.places"), error=error, hints=PLACE_HINTS)


@bp.get("/places/<place_id>")
@requires(Permission.ENGAGEMENT_READ)
def place(place_id):
    return render_template("engagement/place.html", **context(call_codes=call_codes,
                                                               **place_page(current_user, place_id)))


@bp.route("/places/<place_id>/edit", methods=["GET", "POST"])
@requires(Permission.ENGAGEMENT_MANAGE)
def edit_place(place_id):
    record = get_place(current_user, place_id)
    form = PlaceForm(obj=record) if request.method == "GET" else PlaceForm()
    saved, error = save(form, update_place, record.id)
    if saved is not None:
        flash("Place saved.", "success")
        return redirect(url_for("engagement.place", place_id=record.id), 303)
    return form_page(form, title=f"Edit {record.name}", action=url_for("engagement.edit_place", place_id=record.id),
                     submit="Save the place", back=url_for("engagement.place", place_id=record.id), error=error,
                     hints=PLACE_HINTS)


# --- a call's place -------------------------------------------------------------------------

@bp.post("/calls/<call_id>/place")
@requires(Permission.CALLS_READ)
def link_call_place(call_id):
    place_id = request.form.get("place_id", "")[:36] or None
    try:
        link_call_to_place(current_user, call_id, place_id)
    except ValidationError as exc:
        db.session.rollback()
        flash(" ".join(m for ms in exc.fields.values() for m in ms) or exc.message, "error")
    else:
        db.session.commit()
        flash("The call is linked to the place." if place_id else "The call is no longer linked to a place.",
              "success")
    return redirect(url_for("calls.detail", call_id=call_id), 303)

"""Rules about one agency record (no Flask imports)."""


def may_edit_agency(actor, agency) -> bool:
    """Own agency; the BHU hosts the regional deployment, so its admins edit any."""
    return agency.id == actor.agency_id or actor.agency.is_bhu


def may_create_agency(actor) -> bool:
    return actor.agency.is_bhu

"""Community engagement records, kept alongside the co-response work (DOMAIN.md).

Modules: ``places`` (the registry, matching calls to places, a place's page and a
call's "engagement here" panel), one per kind of record (``visits``, ``events``,
``partnerships``, ``posts``, ``youth``), ``lists`` (filters, pages and CSV exports
of every kind), ``checks`` (checks of typed values shared by the kinds) and
``stats`` (the figures reports read).

    from clinician_app.engagement import lists, places, visits
    place = places.create_place(actor, places.PlaceData(name="Chelmsford High School", kind="school",
                                                        address="200 Richardson Road"))
    visit = visits.record_visit(actor, visits.VisitData(place_id=place.id, started_at=aware,
                                                        duration_minutes=20, officer_ids=[actor.id],
                                                        purpose="Walk-through at dismissal"))
    page = lists.list_records(actor, "visits", lists.EngagementFilter(place_id=place.id))

Who may do what: officers and the engagement role record visits
(``ENGAGEMENT_WRITE``); only the engagement role records events, partnerships,
posts, youth programs and places (``ENGAGEMENT_MANAGE``); officers, clinicians,
supervisors and the engagement role read them (``ENGAGEMENT_READ``). Records
belong to one agency and are listed through ``policy.visible``; a partnership is
also seen, read-only, by its partner agencies. Anyone who may read a call of
their own agency may link it to one of the agency's places.

Services flush, never commit; each writes its audit event in the caller's
transaction. Audit details carry ids and codes, never notes or addresses.
"""

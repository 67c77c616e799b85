"""Awareness posts on social media, recorded by the engagement role."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from clinician_app.core import audit, policy
from clinician_app.core.policy import Permission
from clinician_app.core.timeutil import utcnow
from clinician_app.extensions import db

from . import checks, codes
from .models import TITLE_MAX, AwarenessPost


@dataclass
class PostData:
    platform: str = ""
    posted_on: date | None = None
    topic: str = ""
    title: str = ""
    url: str = ""
    reach: int | str | None = None


def record_post(actor, data: PostData) -> AwarenessPost:
    policy.require(actor, Permission.ENGAGEMENT_MANAGE)
    errors: dict = {}
    platform = checks.code(data.platform, codes.PLATFORMS, "platform", errors, "Choose where it was posted.")
    posted_on = checks.day(data.posted_on, "posted_on", errors, required="Enter the date it was posted, like 2026-05-14.",
                           today=checks.agency_today(actor), not_future=True)
    topic = checks.code(data.topic, codes.POST_TOPICS, "topic", errors, "Choose what the post is about.")
    title = checks.text(data.title, TITLE_MAX, "title", errors, required="Say what the post was about, in a line.")
    url = checks.web_link(data.url, "url", errors)
    reach = checks.count(data.reach, "reach", errors, what="reach")
    checks.raise_if(errors)
    post = AwarenessPost(agency_id=actor.agency_id, platform=platform, posted_on=posted_on, topic=topic,
                         title=title, url=url, reach=reach, created_by_id=actor.id, created_at=utcnow())
    db.session.add(post)
    db.session.flush()
    audit.record("engagement.post_record", actor=actor, record_type="engagement_post", record_id=post.id,
                 details={"platform": platform, "topic": topic})
    return post

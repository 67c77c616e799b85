"""Agencies: partner towns' police departments and the regional BHU."""

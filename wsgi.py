"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""
import os

from clinician_app import create_app

app = create_app(os.environ.get("CLINICIAN_ENV", "development"))

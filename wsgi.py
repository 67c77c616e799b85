"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi ...``."""
import gc
import os

from clinician_app import create_app

app = create_app(os.environ.get("CLINICIAN_ENV", "development"))

# A server process keeps what it has built by now (mappers, compiled statements
# and templates, configuration) for its whole life. Frozen, those objects are no
# longer rescanned by every full collection, and with a higher first threshold
# collections run less often while a request makes its many short-lived objects:
# the pauses that showed in the slowest 1% of pages (bench/run.py, 4 clients: BHU
# report p99 338-383 -> 243 ms, case page p99 101-156 -> 90-98 ms).
gc.freeze()
gc.set_threshold(50_000, 20, 100)

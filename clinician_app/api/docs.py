"""The API's OpenAPI document and a readable reference page built from it.

Both are public: they describe the interface, hold no data, and a CAD vendor
needs them before it has a token. The page is rendered on the server from the
same document, so it can't disagree with it, and needs no script.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, current_app, jsonify, render_template
from markupsafe import Markup, escape

from clinician_app.core.policy import public

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: str = ""
    choices: list[str] = field(default_factory=list)
    limits: str = ""


@dataclass
class Operation:
    method: str
    path: str
    summary: str
    description: str
    scope: str
    parameters: list[Field]
    body: list[Field]
    responses: list[tuple[str, str]]
    anchor: str


@bp.route("/openapi.json")
@public
def openapi_json():
    from . import openapi_document

    return jsonify(openapi_document(current_app))


@bp.route("/docs")
@public
def reference():
    from . import openapi_document

    spec = openapi_document(current_app)
    return render_template("api/docs.html", spec=spec, operations=operations(spec),
                           error_fields=schema_fields(spec, resolve(spec, {"$ref": "#/components/schemas/ErrorBody"})))


@bp.app_template_filter("inline_code")
def inline_code(text: str) -> Markup:
    """The document's `backticks` as code, everything else escaped."""
    parts = (text or "").split("`")
    code = Markup('<code class="app-mono">{}</code>')
    # Odd parts were between backticks; format() and escape() escape every part.
    return Markup("").join(code.format(part) if index % 2 else escape(part) for index, part in enumerate(parts))


def _limits(spec: dict, schema: dict) -> str:
    schema = resolve(spec, schema)
    if schema.get("type") == "array":
        return _limits(spec, schema.get("items", {}))
    if "minimum" in schema and "maximum" in schema:
        return f"From {schema['minimum']} to {schema['maximum']}."
    if "maxLength" in schema:
        return f"At most {schema['maxLength']} characters."
    return ""


def resolve(spec: dict, node: dict | None) -> dict:
    """Follow ``$ref`` pointers within the document."""
    while node and "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node or {}


def _type_of(spec: dict, schema: dict) -> str:
    schema = resolve(spec, schema)
    kind = schema.get("type", "object")
    if kind == "array":
        return f"list of {_type_of(spec, schema.get('items', {}))}"
    return f"{kind} ({schema['format']})" if schema.get("format") else kind


def _choices(spec: dict, schema: dict) -> list[str]:
    schema = resolve(spec, schema)
    if schema.get("type") == "array":
        return _choices(spec, schema.get("items", {}))
    return [str(c) for c in schema.get("enum", []) if c is not None]


def schema_fields(spec: dict, schema: dict) -> list[Field]:
    schema = resolve(spec, schema)
    required = set(schema.get("required", []))
    return [Field(name, _type_of(spec, prop), name in required, resolve(spec, prop).get("description", ""),
                  _choices(spec, prop), _limits(spec, prop))
            for name, prop in schema.get("properties", {}).items()]


def operations(spec: dict) -> list[Operation]:
    found = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            parameters = [resolve(spec, p) for p in item.get("parameters", []) + op.get("parameters", [])]
            body = resolve(spec, op.get("requestBody", {})).get("content", {}).get("application/json", {}).get("schema")
            responses = [(status, resolve(spec, reply).get("description", "")) for status, reply in op.get("responses", {}).items()]
            found.append(Operation(
                method=method.upper(), path=path, summary=op.get("summary", ""), description=op.get("description", ""),
                scope=op.get("x-required-scope", ""),
                parameters=[Field(f"{p['name']} ({p['in']})", _type_of(spec, p.get("schema", {})), bool(p.get("required")),
                                  p.get("description", ""), _choices(spec, p.get("schema", {})), _limits(spec, p.get("schema", {})))
                            for p in parameters],
                body=schema_fields(spec, body) if body else [],
                responses=sorted(responses),
                anchor=f"{method}-{path.strip('/').replace('/', '-').replace('{', '').replace('}', '')}",
            ))
    return found

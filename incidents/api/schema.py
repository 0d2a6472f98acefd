"""OpenAPI post-processing (settings.SPECTACULAR_SETTINGS): the error answers every
operation may give, all `{"detail": "..."}` (incidents/api/errors.py), documented once
here rather than on each view. tests/test_api_fuzz.py checks that every status and body
an operation answers with is documented."""

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: one sentence a person can read in `detail`; some add "
    "fields (`errors` per field for 400, `current_revision`/`current_text` for a stale "
    "edit, `published_by`/`published_url`/`published_at` for an earlier publication).",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["detail"],
    "additionalProperties": True,
}

ERRORS = {
    "400": "Invalid input (malformed JSON or a refused value): `detail` says what.",
    "403": "Not authenticated, or your role does not allow this.",
    "404": "Not found, or not in one of your incidents.",
}
WRITE_ERRORS = {
    "409": "Conflicts with the current state: already done differently, or changed since "
    "you read it.",
    "415": "The body is not JSON, a form or multipart (its Content-Type).",
}
THROTTLED = {"429": "Too many attempts; wait and try again."}


def document_errors(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            codes = dict(ERRORS)
            if method not in ("get", "head"):
                codes.update(WRITE_ERRORS)
            if path == "/api/auth/token/":
                codes.update(THROTTLED)
            responses = operation.setdefault("responses", {})
            for code, description in codes.items():
                responses.setdefault(code, {"description": description, "content": body})
    return result
